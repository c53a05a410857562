;; A start function that writes memory, to check restoring skips it.
(module
  (memory (export "memory") 1)
  (data (i32.const 100) "\2a")
  (func $start (i32.store8 (i32.const 200) (i32.const 99)))
  (start $start)
  (func (export "peek") (param i32) (result i32)
    (i32.load8_u (local.get 0)))
)
