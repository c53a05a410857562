;; An applet-like module that needs host functions from module "seam".
(module
  (import "seam" "apdu_read" (func $read (param i32 i32) (result i32)))
  (import "seam" "fail" (func $fail))
  (memory (export "memory") 1)
  (func (export "read_apdu") (result i32)
    (call $read (i32.const 16) (i32.const 8)))
  (func (export "sum_apdu") (result i32)
    (drop (call $read (i32.const 16) (i32.const 8)))
    (i32.add (i32.load8_u (i32.const 16)) (i32.load8_u (i32.const 17))))
  (func (export "call_fail") (result i32)
    (call $fail)
    (i32.const 7))
)
