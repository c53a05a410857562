;; Shapes where the translator's lazy operands (a local.get or a constant whose
;; op reads the local or takes the constant directly, docs/wasm.md) meet a
;; write to the local, a block boundary, a branch carrying values or a call.
;; Each function's comment gives its result; test_translation.c checks them
;; with metering on and off.
(module
  (memory 1)

  ;; a + 5 with the old a: the read of a comes before a = 5
  (func (export "read_then_write") (param $a i32) (result i32)
    local.get $a
    i32.const 5
    local.set $a
    local.get $a
    i32.add)

  ;; a - b*a with the old a, the product computed straight into a by local.tee
  (func (export "tee_over_pending") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    local.get $a
    i32.mul
    local.tee $a
    i32.sub)

  ;; a + 100 with the old a: the block writes a
  (func (export "across_block") (param $a i32) (result i32)
    local.get $a
    block
      i32.const 100
      local.set $a
    end
    local.get $a
    i32.add)

  ;; a - (a + 1) = -1: the second argument writes the local the first read
  (func $sub (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.sub)
  (func (export "call_args") (param $a i32) (result i32)
    local.get $a
    local.get $a
    i32.const 1
    i32.add
    local.tee $a
    call $sub)

  ;; c ? a : 7, the value carried by br_if read from a before a = 7
  (func (export "br_if_value") (param $a i32) (param $c i32) (result i32)
    block (result i32)
      local.get $a
      local.get $c
      br_if 0
      drop
      i32.const 7
      local.set $a
      local.get $a
    end)

  ;; c ? a : 9, returned by a conditional return
  (func (export "cond_return") (param $a i32) (param $c i32) (result i32)
    local.get $a
    local.get $c
    br_if 0
    drop
    i32.const 9)

  ;; c ? a + 1 : a - 2, a entering the if as its parameter
  (func (export "if_param") (param $a i32) (param $c i32) (result i32)
    local.get $a
    local.get $c
    if (param i32) (result i32)
      i32.const 1
      i32.add
    else
      i32.const 2
      i32.sub
    end)

  ;; the two parameters, swapped: two results from locals
  (func (export "swap") (param i32 i32) (result i32 i32)
    local.get 1
    local.get 0)

  ;; c ? a : b through select, the old a and b, both then overwritten
  (func (export "select_old") (param $a i32) (param $b i32) (param $c i32) (result i32)
    local.get $a
    local.get $b
    i32.const 0
    local.tee $a
    local.tee $b
    drop
    local.get $c
    select)

  ;; memory[a] = a, then returns memory[a] + old a, a rewritten in between
  (func (export "store_load") (param $a i32) (result i32)
    local.get $a
    local.get $a
    i32.store
    local.get $a
    local.get $a
    i32.load
    local.set $a
    local.get $a
    i32.add)

  ;; 1 if x < y, else 0, through an if: with a NaN, the else branch
  (func (export "float_if") (param $x f32) (param $y f32) (result i32)
    local.get $x
    local.get $y
    f32.lt
    if (result i32)
      i32.const 1
    else
      i32.const 0
    end)

  ;; counts n down to 0: five units of fuel per iteration, paid by the back edge
  (func (export "countdown") (param $n i32)
    loop
      local.get $n
      i32.const 1
      i32.sub
      local.tee $n
      br_if 0
    end)

  ;; five units whichever way the block is left: the branch pays the region
  ;; after the end (1 unit) as falling through does
  (func (export "landing") (param $c i32) (result i32)
    block
      local.get $c
      br_if 0
      nop
      i32.const 1
      drop
    end
    i32.const 2)

  ;; a + 1, three units: local.get (1) in the first region; the block's value
  ;; is moved to its slot at the end, and that move pays the region after the
  ;; end (i32.const, i32.add: 2) where a CHARGE would
  (func (export "paid_by_move") (param $a i32) (result i32)
    block (result i32)
      local.get $a
    end
    i32.const 1
    i32.add)

  ;; p, five units: local.get, local.get, i32.store (3), then after the end,
  ;; paid by the store, local.get and i32.load (2)
  (func (export "paid_by_store") (param $p i32) (result i32)
    block
      local.get $p
      local.get $p
      i32.store
    end
    local.get $p
    i32.load)

  (func $inc (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add)

  ;; a + 1, five units: local.get and call here (2), $inc's body (3), paid by
  ;; the call on entering it
  (func (export "paid_by_call") (param $a i32) (result i32)
    local.get $a
    call $inc)
)
