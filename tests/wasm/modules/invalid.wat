;; Decodes but does not validate: i32.add of an i64.
(module (func (result i32) (i32.add (i64.const 1) (i32.const 2))))
