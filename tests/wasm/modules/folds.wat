;; Superinstructions (docs/wasm.md) in the shape compilers emit most: the first
;; op's result, then a lazy operand (a local.get or a constant, which emit
;; nothing) pushed above it, then the op that consumes both. Each function
;; takes (a, b, c) and returns what its comment says; test_translation.c
;; compares with the same arithmetic done in C, metering on and off.
(module
  ;; a*b + c
  (func (export "mul_add") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.mul
    local.get $c
    i32.add)
  ;; a*b + 7
  (func (export "mul_add_k") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.mul
    i32.const 7
    i32.add)
  ;; a*3 + c
  (func (export "mul_k_add") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const 3
    i32.mul
    local.get $c
    i32.add)
  ;; a*-3 + 7
  (func (export "mul_k_add_k") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const -3
    i32.mul
    i32.const 7
    i32.add)
  ;; a + b + c
  (func (export "add_add") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.add
    local.get $c
    i32.add)
  ;; a + b - 1
  (func (export "add_add_k") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.add
    i32.const -1
    i32.add)
  ;; (a << 3) + c
  (func (export "shl_k_add") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const 3
    i32.shl
    local.get $c
    i32.add)
  ;; (a << 35, that is << 3) + 1000
  (func (export "shl_k_add_k") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const 35
    i32.shl
    i32.const 1000
    i32.add)
  ;; (a >> 5, unsigned) & 0xff
  (func (export "shr_u_k_and_k") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const 5
    i32.shr_u
    i32.const 0xff
    i32.and)
  ;; (a >> 7, unsigned) ^ c
  (func (export "shr_u_k_xor") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const 7
    i32.shr_u
    local.get $c
    i32.xor)
  ;; (a << 9) ^ c
  (func (export "shl_k_xor") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const 9
    i32.shl
    local.get $c
    i32.xor)
  ;; a ^ b ^ c
  (func (export "xor_xor") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.xor
    local.get $c
    i32.xor)
  ;; (a ^ b) << 4
  (func (export "xor_shl_k") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.xor
    i32.const 4
    i32.shl)
  ;; a's low byte, sign-extended: (a << 24) >> 24, signed
  (func (export "shl_k_shr_s_k") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    i32.const 24
    i32.shl
    i32.const 24
    i32.shr_s)
  ;; a*b + c: c was read before the product; the product is the right operand
  (func (export "add_of_product") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $c
    local.get $a
    local.get $b
    i32.mul
    i32.add)
  ;; a*b + c: an operand pushed above the product and dropped in between
  (func (export "dropped_between") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.mul
    local.get $a
    drop
    local.get $c
    i32.add)
  ;; (a + b) + c, the sum stored into b first: b's old value is read by the sum
  (func (export "set_between") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.add
    local.get $c
    local.set $b
    local.get $b
    i32.add)
  ;; a*b + c written into c by local.set, then c - a
  (func (export "fold_then_set") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.mul
    local.get $c
    i32.add
    local.set $c
    local.get $c
    local.get $a
    i32.sub)
  ;; (a + b) + (a + b) through local.tee of the sum, read again above it
  (func (export "tee_then_fold") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.add
    local.tee $c
    local.get $c
    i32.add)
  ;; a < b (signed) ? 1 : 2, with a constant pushed and dropped between the
  ;; compare and the if
  (func (export "compare_dropped_if") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.lt_s
    i32.const 9
    drop
    if (result i32)
      i32.const 1
    else
      i32.const 2
    end)
  ;; the product dropped, then the stack entry it used holds c: c + 7
  (func (export "result_dropped") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.mul
    drop
    local.get $c
    i32.const 7
    i32.add))
