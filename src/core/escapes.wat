;; Removing escape sequences from UTF-8 log bytes: the byte-level twin of ESCAPES in
;; clean-line.ts, compiled by scripts/build-wasm.mjs into escapes-wasm.ts.
;;
;; Why WebAssembly: a log has an escape sequence every 40 bytes or so (a timestamp marker per
;; line, colours around words). Any JavaScript way of removing them pays a native call or a
;; regex step per sequence, which held cleaning to about 300 MB/s (docs/benchmarks.md). Here
;; runs of plain text are copied 16 bytes at a time with SIMD and each sequence costs a few
;; byte compares.
;;
;; The grammar is ESCAPES' own, at an ESC byte, with its order of alternatives where they overlap:
;;   A. ESC [_]PX^] then bytes other than BEL, ESC, LF, ended by BEL or ESC \   (APC/OSC/DCS/PM/SOS)
;;   B. ESC _bk; [d] t= digits                                                  (a cut timestamp)
;;   C. ESC [ params(0x30-0x3f)* intermediates(0x20-0x2f)* final(0x40-0x7e)   (CSI)
;;   D. ESC intermediates(0x20-0x2f)* final(0x30-0x7e)                         (two-/three-byte)
;;   E. a lone ESC
;; All of it is ASCII, and no byte of a multi-byte UTF-8 character is ASCII, so on valid UTF-8
;; removing these byte sequences gives the UTF-8 of what ESCAPES removes from the decoded text.

(module
  (memory (export "memory") 1)

  ;; Where the escape sequence starting at $i (an ESC) ends; the input ends at $end.
  (func $escapeEnd (param $i i32) (param $end i32) (result i32)
    (local $c i32) (local $j i32) (local $d i32) (local $v v128) (local $mask i32)
    (local.set $c (i32.const -1))
    (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $end))
      (then (local.set $c (i32.load8_u offset=1 (local.get $i)))))
    ;; C first, the commonest (colours): after ESC [ neither A nor B can match, and when C does
    ;; not, D takes the two bytes ESC [ ('[' is a final byte, not an intermediate).
    (if (i32.eq (local.get $c) (i32.const 0x5b))
      (then
        (local.set $j (i32.add (local.get $i) (i32.const 2)))
        (block $params
          (loop $param
            (br_if $params (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $d (i32.load8_u (local.get $j)))
            (br_if $params (i32.gt_u (i32.sub (local.get $d) (i32.const 0x30)) (i32.const 0x0f)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $param)))
        (local.set $j (call $skipRange (local.get $j) (local.get $end) (i32.const 0x20) (i32.const 0x2f)))
        (if (i32.lt_u (local.get $j) (local.get $end))
          (then
            (if (i32.le_u (i32.sub (i32.load8_u (local.get $j)) (i32.const 0x40)) (i32.const 0x3e))
              (then (return (i32.add (local.get $j) (i32.const 1)))))))
        (return (i32.add (local.get $i) (i32.const 2)))))
    ;; A. a string ended by BEL or ESC \
    (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x5f)) (i32.eq (local.get $c) (i32.const 0x5d)))
                (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x50)) (i32.eq (local.get $c) (i32.const 0x58)))
                        (i32.eq (local.get $c) (i32.const 0x5e))))
      (then
        (local.set $j (i32.add (local.get $i) (i32.const 2)))
        (block $stop
          (loop $scan
            ;; Skip 16 bytes at a time to the first BEL, ESC or LF.
            (if (i32.le_u (i32.add (local.get $j) (i32.const 16)) (local.get $end))
              (then
                (local.set $v (v128.load (local.get $j)))
                (local.set $mask (i8x16.bitmask (v128.or (v128.or
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x07)))
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x1b))))
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0a))))))
                (if (i32.eqz (local.get $mask))
                  (then
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $scan)))
                (local.set $j (i32.add (local.get $j) (i32.ctz (local.get $mask))))))
            (br_if $stop (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $d (i32.load8_u (local.get $j)))
            (if (i32.eq (local.get $d) (i32.const 0x07))
              (then (return (i32.add (local.get $j) (i32.const 1)))))
            (if (i32.eq (local.get $d) (i32.const 0x1b))
              (then
                (if (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $end))
                  (then
                    (if (i32.eq (i32.load8_u offset=1 (local.get $j)) (i32.const 0x5c))
                      (then (return (i32.add (local.get $j) (i32.const 2)))))))
                (br $stop)))
            (br_if $stop (i32.eq (local.get $d) (i32.const 0x0a)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $scan)))))
    ;; B. ESC _bk; [d] t= digits, with no terminator (a line cut inside a marker)
    (if (i32.eq (call $marker (local.get $i) (local.get $end)) (i32.const 1))
      (then
        (local.set $j (i32.add (local.get $i) (i32.const 5)))
        (if (i32.lt_u (local.get $j) (local.get $end))
          (then
            (if (i32.eq (i32.load8_u (local.get $j)) (i32.const 0x64))
              (then (local.set $j (i32.add (local.get $j) (i32.const 1)))))))
        (if (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $end))
          (then
            (if (i32.eq (i32.load16_u (local.get $j)) (i32.const 0x3d74)) ;; "t="
              (then
                (return (call $skipRange (i32.add (local.get $j) (i32.const 2)) (local.get $end) (i32.const 0x30) (i32.const 0x39)))))))))
    ;; D. ESC intermediates final; E. a lone ESC
    (local.set $j (call $skipRange (i32.add (local.get $i) (i32.const 1)) (local.get $end) (i32.const 0x20) (i32.const 0x2f)))
    (if (i32.lt_u (local.get $j) (local.get $end))
      (then
        (if (i32.le_u (i32.sub (i32.load8_u (local.get $j)) (i32.const 0x30)) (i32.const 0x4e))
          (then (return (i32.add (local.get $j) (i32.const 1)))))))
    (i32.add (local.get $i) (i32.const 1)))

  ;; 1 when the bytes after the ESC at $i are "_bk;".
  (func $marker (param $i i32) (param $end i32) (result i32)
    (if (i32.ge_u (i32.add (local.get $i) (i32.const 4)) (local.get $end))
      (then (return (i32.const 0))))
    (i32.eq (i32.load (i32.add (local.get $i) (i32.const 1))) (i32.const 0x3b6b625f)))

  ;; The first position at or after $j (before $end) whose byte is outside [$lo, $hi].
  (func $skipRange (param $j i32) (param $end i32) (param $lo i32) (param $hi i32) (result i32)
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
        (br_if $done (i32.gt_u (i32.sub (i32.load8_u (local.get $j)) (local.get $lo)) (i32.sub (local.get $hi) (local.get $lo))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $more)))
    (local.get $j))

  ;; Copies the $n bytes at $src to $dst without their escape sequences; returns the length
  ;; written. The two ranges must not overlap: plain text is stored 16 bytes at a time, up to
  ;; 15 bytes past what is kept (never past $dst + $n).
  (func (export "clean") (param $src i32) (param $n i32) (param $dst i32) (result i32)
    (local $i i32) (local $end i32) (local $o i32) (local $v v128) (local $mask i32) (local $k i32) (local $b i32)
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (local.set $o (local.get $dst))
    (block $finished
      (loop $next
        ;; 16 bytes at a time: stored whole, the output advancing up to the first ESC among them.
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            (local.set $v (v128.load (local.get $i)))
            (v128.store (local.get $o) (local.get $v))
            (local.set $mask (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x1b)))))
            (if (i32.eqz (local.get $mask))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $next)))
            (local.set $k (i32.ctz (local.get $mask)))
            (local.set $o (i32.add (local.get $o) (local.get $k)))
            (local.set $i (call $escapeEnd (i32.add (local.get $i) (local.get $k)) (local.get $end)))
            (br $next)))
        ;; The last few bytes, one at a time.
        (br_if $finished (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $b) (i32.const 0x1b))
          (then (local.set $i (call $escapeEnd (local.get $i) (local.get $end))))
          (else
            (i32.store8 (local.get $o) (local.get $b))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))))
        (br $next)))
    (i32.sub (local.get $o) (local.get $dst)))

  ;; Line breaks in the $n bytes at $p: each LF, and each CR not followed by LF (a CR in the last
  ;; byte counts: the caller knows whether the next block starts with LF).
  (func (export "breaks") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $v v128) (local $lf i32) (local $cr i32) (local $count i32) (local $b i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $finished
      (loop $next
        ;; 16 bytes at a time, reading one byte past them to see what follows a CR in the last.
        (if (i32.lt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end))
          (then
            (local.set $v (v128.load (local.get $p)))
            (local.set $lf (i32.or
              (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0a))))
              (i32.shl (i32.eq (i32.load8_u offset=16 (local.get $p)) (i32.const 0x0a)) (i32.const 16))))
            (local.set $cr (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0d)))))
            (local.set $count (i32.add (local.get $count) (i32.add
              (i32.popcnt (i32.and (local.get $lf) (i32.const 0xffff)))
              (i32.popcnt (i32.and (local.get $cr) (i32.xor (i32.shr_u (local.get $lf) (i32.const 1)) (i32.const -1)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $next)))
        (br_if $finished (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $p)))
        (if (i32.eq (local.get $b) (i32.const 0x0a))
          (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        ;; A CR counts unless a LF follows; the last byte has nothing after it to read (i32.or
        ;; would evaluate the load anyway, past the end: hence the nested ifs).
        (if (i32.eq (local.get $b) (i32.const 0x0d))
          (then
            (if (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end))
              (then (local.set $count (i32.add (local.get $count) (i32.const 1))))
              (else
                (if (i32.ne (i32.load8_u offset=1 (local.get $p)) (i32.const 0x0a))
                  (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $count)))
