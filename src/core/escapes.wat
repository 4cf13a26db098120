;; Cleaning UTF-8 log bytes: the byte-level twin of cleanLogText in clean-line.ts, compiled by
;; scripts/build-wasm.mjs into escapes-wasm.ts.
;;
;; Why WebAssembly: a log has an escape sequence every 40 bytes or so (a timestamp marker per
;; line, colours around words). Any JavaScript way of removing them pays a native call or a
;; regex step per sequence, which held cleaning to about 300 MB/s (docs/benchmarks.md). Here
;; runs of plain text are copied 16 bytes at a time with SIMD and each sequence costs a few
;; byte compares.
;;
;; clean-line.ts's rules 1 to 3 (the export `clean` says how the work is split between passes):
;; 1. At an ESC byte, stripEscapes' grammar, with its order of alternatives where they overlap:
;;    A. ESC _ then bytes other than BEL, LF and CR, ended by BEL or ESC \ (an ESC not followed
;;       by \ is part of it), unless an earlier search found no end on this line   (APC)
;;    A'. ESC ]PX^ then bytes other than BEL, ESC, LF, CR, ended by BEL or ESC \ (OSC/DCS/SOS/PM);
;;       the OSC bodies `1339;` and `1338;` leave their text (see $element)
;;    B. ESC _bk; [d] t= digits                                                  (a cut timestamp)
;;    C. ESC [ params(0x30-0x3f)* intermediates(0x20-0x2f)* final(0x40-0x7e)   (CSI)
;;    D. ESC intermediates(0x20-0x2f)* final(0x30-0x7e)                         (two-/three-byte)
;;    E. a lone ESC
;; 2. Control bytes go: C0 but TAB, LF, CR and BS; DEL; C1 controls (U+0080-U+009F, C2 80-C2 9F).
;; 3. A timestamp prefix `[2026-11-30T14:02:11Z] ` at a line start goes when its bytes are there
;;    as they are.
;; What it leaves to TypeScript, reported in $flags: a backspace kept (rule 4 needs whole lines),
;; and a line starting with `[` where a removed byte interrupts what could be a prefix, which the
;; text rules might assemble. The caller cleans such a block as text instead.
;; Every byte removed or looked at here is ASCII, or a whole two-byte C1 character, and no byte of
;; a multi-byte UTF-8 character is ASCII, so on valid UTF-8 the result is the UTF-8 of what
;; cleanLogText makes of the decoded text.

(module
  (memory (export "memory") 1)

  ;; Set by clean: bit 0 a backspace was kept, bit 1 a line may hold a prefix only cleaning makes
  ;; (for both, TypeScript cleans the text instead); bit 2 $cleanAll had work to do: a line
  ;; starting with '[', a control byte.
  (global $flags (mut i32) (i32.const 0))
  ;; Set by clean: the line breaks it wrote.
  (global $lines (mut i32) (i32.const 0))
  ;; Set by clean: an APC string starting before this position has no terminator on its line, so
  ;; a long line of unterminated ones costs one search, not one per ESC.
  (global $apcMiss (mut i32) (i32.const 0))

  ;; Where the escape sequence starting at $i (an ESC) ends; the input ends at $end. The top bit
  ;; is set for an OSC string, the one kind that may leave text (so that the caller, at every ESC,
  ;; tests a sign rather than loads a byte).
  (func $escapeEnd (param $i i32) (param $end i32) (result i32)
    (local $c i32) (local $j i32) (local $d i32) (local $v v128) (local $mask i32) (local $osc i32)
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
        (if (i32.or (i32.ne (local.get $c) (i32.const 0x5f)) (i32.ge_u (local.get $i) (global.get $apcMiss)))
          (then
            (local.set $osc (i32.shl (i32.eq (local.get $c) (i32.const 0x5d)) (i32.const 31)))
            (local.set $j (i32.add (local.get $i) (i32.const 2)))
            (block $stop
              (loop $scan
                ;; Skip 16 bytes at a time to the first BEL, ESC, LF or CR.
                (if (i32.le_u (i32.add (local.get $j) (i32.const 16)) (local.get $end))
                  (then
                    (local.set $v (v128.load (local.get $j)))
                    (local.set $mask (i8x16.bitmask (v128.or
                      (v128.or
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x07)))
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x1b))))
                      (v128.or
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0a)))
                        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x0d)))))))
                    (if (i32.eqz (local.get $mask))
                      (then
                        (local.set $j (i32.add (local.get $j) (i32.const 16)))
                        (br $scan)))
                    (local.set $j (i32.add (local.get $j) (i32.ctz (local.get $mask))))))
                (br_if $stop (i32.ge_u (local.get $j) (local.get $end)))
                (local.set $d (i32.load8_u (local.get $j)))
                (if (i32.eq (local.get $d) (i32.const 0x07))
                  (then (return (i32.or (i32.add (local.get $j) (i32.const 1)) (local.get $osc)))))
                (if (i32.eq (local.get $d) (i32.const 0x1b))
                  (then
                    (if (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $end))
                      (then
                        (if (i32.eq (i32.load8_u offset=1 (local.get $j)) (i32.const 0x5c))
                          (then (return (i32.or (i32.add (local.get $j) (i32.const 2)) (local.get $osc)))))))
                    ;; A stray ESC: part of an APC's body, the end of any other string's.
                    (br_if $stop (i32.ne (local.get $c) (i32.const 0x5f)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $scan)))
                (br_if $stop (i32.or (i32.eq (local.get $d) (i32.const 0x0a)) (i32.eq (local.get $d) (i32.const 0x0d))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $scan)))
            (if (i32.eq (local.get $c) (i32.const 0x5f))
              (then (global.set $apcMiss (local.get $j))))))))
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

  ;; 1 for the bytes clean stops at: ESC and the other C0 controls but TAB, LF and CR (BS
  ;; included: it is kept, and flagged), DEL, 0xC2 (the first byte of a C1 control) and '['.
  (func $isSpecial (param $b i32) (result i32)
    (if (i32.lt_u (local.get $b) (i32.const 0x20))
      (then (return (i32.and (i32.shr_u (i32.const 0xffffd9ff) (local.get $b)) (i32.const 1)))))
    (i32.or (i32.or (i32.eq (local.get $b) (i32.const 0x7f)) (i32.eq (local.get $b) (i32.const 0xc2)))
            (i32.eq (local.get $b) (i32.const 0x5b))))

  ;; 1 when output position $o starts a line: right after LF or CR, or at the start of the output
  ;; when the input starts a line ($bol); never right after a stripped prefix ($stripped), where
  ;; the text cleaner sees the prefix's final space.
  (func $atLineStart (param $o i32) (param $stripped i32) (param $dst i32) (param $bol i32) (result i32)
    (local $p i32)
    (if (i32.eq (local.get $o) (local.get $stripped)) (then (return (i32.const 0))))
    (if (i32.eq (local.get $o) (local.get $dst)) (then (return (local.get $bol))))
    (local.set $p (i32.load8_u (i32.sub (local.get $o) (i32.const 1))))
    (i32.or (i32.eq (local.get $p) (i32.const 0x0a)) (i32.eq (local.get $p) (i32.const 0x0d))))

  ;; Where the timestamp prefix `[YYYY-MM-DDTHH:MM:SS(.fraction)Z] ` starting at $i ends, or 0.
  (func $prefixEnd (param $i i32) (param $end i32) (result i32)
    (local $p i32) (local $k i32) (local $b i32) (local $want i32)
    (local.set $p (i32.add (local.get $i) (i32.const 1)))
    (local.set $k (i32.const 1))
    ;; The common case on a timestamp-lines agent, where every line has one: a whole prefix
    ;; without fraction, its 23 bytes `[dddd-dd-ddTdd:dd:ddZ] ` checked 16 at a time (bytes 0-15,
    ;; then 7-22). Otherwise the loops below find where the bytes differ.
    (if (i32.le_u (i32.add (local.get $i) (i32.const 23)) (local.get $end))
      (then
        (if (i32.and
              (call $fits (v128.load (local.get $i))
                (v128.const i8x16 0x5b 0 0 0 0 0x2d 0 0 0x2d 0 0 0x54 0 0 0x3a 0)
                (v128.const i8x16 0 -1 -1 -1 -1 0 -1 -1 0 -1 -1 0 -1 -1 0 -1))
              (call $fits (v128.load offset=7 (local.get $i))
                (v128.const i8x16 0 0x2d 0 0 0x54 0 0 0x3a 0 0 0x3a 0 0 0x5a 0x5d 0x20)
                (v128.const i8x16 -1 0 -1 -1 0 -1 -1 0 -1 -1 0 -1 -1 0 0 0)))
          (then (return (i32.add (local.get $i) (i32.const 23)))))))
    ;; Bytes 1-19 of `[dddd-dd-ddTdd:dd:dd`, where $want 0 stands for a digit.
    (loop $template
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (local.set $b (i32.load8_u (local.get $p)))
      (local.set $want
        (select (i32.const 0x2d)
          (select (i32.const 0x54)
            (select (i32.const 0x3a) (i32.const 0)
              (i32.or (i32.eq (local.get $k) (i32.const 14)) (i32.eq (local.get $k) (i32.const 17))))
            (i32.eq (local.get $k) (i32.const 11)))
          (i32.or (i32.eq (local.get $k) (i32.const 5)) (i32.eq (local.get $k) (i32.const 8)))))
      (if (select (i32.gt_u (i32.sub (local.get $b) (i32.const 0x30)) (i32.const 9))
                  (i32.ne (local.get $b) (local.get $want))
                  (i32.eqz (local.get $want)))
        (then (return (call $noPrefix (local.get $b)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $template (i32.lt_u (local.get $k) (i32.const 20))))
    ;; Fractional seconds: a dot and digits.
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2e))
          (then
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
            (local.set $b (i32.load8_u (local.get $p)))
            (if (i32.gt_u (i32.sub (local.get $b) (i32.const 0x30)) (i32.const 9))
              (then (return (call $noPrefix (local.get $b)))))
            (local.set $p (call $skipRange (local.get $p) (local.get $end) (i32.const 0x30) (i32.const 0x39)))))))
    ;; "Z] "
    (local.set $want (i32.const 0x205d5a))
    (loop $tail
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (local.set $b (i32.load8_u (local.get $p)))
      (if (i32.ne (local.get $b) (i32.and (local.get $want) (i32.const 0xff)))
        (then (return (call $noPrefix (local.get $b)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $want (i32.shr_u (local.get $want) (i32.const 8)))
      (br_if $tail (local.get $want)))
    (local.get $p))

  ;; 1 when each of the 16 bytes $v is a digit where $digits has -1, else the byte in $bytes.
  (func $fits (param $v v128) (param $bytes v128) (param $digits v128) (result i32)
    (local $d v128)
    (local.set $d (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x30))))
    (i32.eq (i32.const 0xffff) (i8x16.bitmask (v128.bitselect
      (i8x16.eq (i8x16.min_u (local.get $d) (i8x16.splat (i32.const 9))) (local.get $d))
      (i8x16.eq (local.get $v) (local.get $bytes))
      (local.get $digits)))))

  ;; No prefix: the byte $b stops one. If cleaning removes $b (an ESC, a control), the text
  ;; cleaner might still see a prefix, so the block is flagged; any other byte stays where it is.
  (func $noPrefix (param $b i32) (result i32)
    (if (call $isSpecial (local.get $b))
      (then
        (if (i32.ne (local.get $b) (i32.const 0x5b))
          (then (global.set $flags (i32.or (global.get $flags) (i32.const 2)))))))
    (i32.const 0))

  ;; 1 when the $len bytes at $s are the lower-case ASCII word in $word's low bytes, in any case.
  (func $keyIs (param $s i32) (param $word i64) (param $len i32) (result i32)
    (local $e i32)
    (local.set $e (i32.add (local.get $s) (local.get $len)))
    (block $no
      (loop $byte
        (if (i32.ge_u (local.get $s) (local.get $e)) (then (return (i32.const 1))))
        (br_if $no (i32.ne (i32.or (i32.load8_u (local.get $s)) (i32.const 0x20))
                           (i32.wrap_i64 (i64.and (local.get $word) (i64.const 0xff)))))
        (local.set $word (i64.shr_u (local.get $word) (i64.const 8)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $byte)))
    (i32.const 0))

  ;; Writes at $o the text Buildkite shows for the OSC body [$p, $q) (elementText in
  ;; clean-line.ts): a `1339;` link's content, else its url; a `1338;` image's alt text; nothing
  ;; for any other. Fields `key=value` split on `;`, a backslash taking the next byte literally,
  ;; the last of a key winning. $start: whether $o starts a line. Returns the output's new end.
  (func $element (param $p i32) (param $q i32) (param $o i32) (param $start i32) (result i32)
    (local $head i32) (local $image i32) (local $f i32) (local $j i32) (local $eq i32) (local $b i32)
    (local $v v128) (local $mask i32)
    (local $urlS i32) (local $urlE i32) (local $conS i32) (local $conE i32) (local $altS i32) (local $altE i32)
    (if (i32.lt_u (i32.sub (local.get $q) (local.get $p)) (i32.const 5)) (then (return (local.get $o))))
    (if (i32.ne (i32.load8_u offset=4 (local.get $p)) (i32.const 0x3b)) (then (return (local.get $o))))
    (local.set $head (i32.load (local.get $p)))
    (local.set $image (i32.eq (local.get $head) (i32.const 0x38333331))) ;; "1338"
    (if (i32.and (i32.eqz (local.get $image)) (i32.ne (local.get $head) (i32.const 0x39333331))) ;; "1339"
      (then (return (local.get $o))))
    (local.set $f (i32.add (local.get $p) (i32.const 5)))
    (local.set $j (local.get $f))
    (local.set $eq (i32.const -1))
    (block $fields
      (loop $scan
        ;; 16 bytes at a time to the first ';', '=' or '\'.
        (if (i32.le_u (i32.add (local.get $j) (i32.const 16)) (local.get $q))
          (then
            (local.set $v (v128.load (local.get $j)))
            (local.set $mask (i8x16.bitmask (v128.or
              (v128.or
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x3b)))
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x3d))))
              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))))
            (if (i32.eqz (local.get $mask))
              (then
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $scan)))
            (local.set $j (i32.add (local.get $j) (i32.ctz (local.get $mask))))))
        (if (i32.lt_u (local.get $j) (local.get $q))
          (then
            (local.set $b (i32.load8_u (local.get $j)))
            (if (i32.eq (local.get $b) (i32.const 0x5c))
              (then
                (local.set $j (i32.add (local.get $j) (i32.const 2)))
                (if (i32.gt_u (local.get $j) (local.get $q)) (then (local.set $j (local.get $q))))
                (br $scan)))
            (if (i32.ne (local.get $b) (i32.const 0x3b))
              (then
                (if (i32.and (i32.eq (local.get $b) (i32.const 0x3d)) (i32.lt_s (local.get $eq) (i32.const 0)))
                  (then (local.set $eq (local.get $j))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $scan)))))
        ;; The field [$f, $j) ends; its key is [$f, $eq).
        (if (i32.eq (i32.sub (local.get $eq) (local.get $f)) (i32.const 3))
          (then
            (if (call $keyIs (local.get $f) (i64.const 0x6c7275) (i32.const 3)) ;; url
              (then
                (local.set $urlS (i32.add (local.get $eq) (i32.const 1)))
                (local.set $urlE (local.get $j))))
            (if (call $keyIs (local.get $f) (i64.const 0x746c61) (i32.const 3)) ;; alt
              (then
                (local.set $altS (i32.add (local.get $eq) (i32.const 1)))
                (local.set $altE (local.get $j))))))
        (if (i32.eq (i32.sub (local.get $eq) (local.get $f)) (i32.const 7))
          (then
            (if (call $keyIs (local.get $f) (i64.const 0x746e65746e6f63) (i32.const 7)) ;; content
              (then
                (local.set $conS (i32.add (local.get $eq) (i32.const 1)))
                (local.set $conE (local.get $j))))))
        (br_if $fields (i32.ge_u (local.get $j) (local.get $q)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (local.set $f (local.get $j))
        (local.set $eq (i32.const -1))
        (br $scan)))
    (if (local.get $image)
      (then (return (call $emit (local.get $altS) (local.get $altE) (local.get $o) (local.get $start)))))
    (if (i32.gt_u (local.get $conE) (local.get $conS))
      (then (return (call $emit (local.get $conS) (local.get $conE) (local.get $o) (local.get $start)))))
    (call $emit (local.get $urlS) (local.get $urlE) (local.get $o) (local.get $start)))

  ;; Writes the field value [$s, $e) at $o unescaped, then cleaned by rule 2; flags what rules 3
  ;; and 4 might change. $start: whether $o starts a line. Returns the output's new end.
  (func $emit (param $s i32) (param $e i32) (param $o i32) (param $start i32) (result i32)
    (local $o0 i32) (local $b i32) (local $v v128) (local $mask i32)
    (local.set $o0 (local.get $o))
    (block $done
      (loop $byte
        ;; 16 bytes at a time up to the first that is not plain (the output is never ahead of
        ;; the input, so the store stays within $dst + $n).
        (if (i32.le_u (i32.add (local.get $s) (i32.const 16)) (local.get $e))
          (then
            (local.set $v (v128.load (local.get $s)))
            (v128.store (local.get $o) (local.get $v))
            (local.set $mask (i8x16.bitmask (v128.or
              (v128.or
                (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 0x20)))
                ;; '[' or '\': v - 0x5b at most 1
                (i8x16.eq
                  (i8x16.min_u (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x5b))) (i8x16.splat (i32.const 1)))
                  (i8x16.sub (local.get $v) (i8x16.splat (i32.const 0x5b)))))
              (v128.or
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x7f)))
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0xc2)))))))
            (if (i32.eqz (local.get $mask))
              (then
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $byte)))
            (local.set $mask (i32.ctz (local.get $mask)))
            (local.set $s (i32.add (local.get $s) (local.get $mask)))
            (local.set $o (i32.add (local.get $o) (local.get $mask)))))
        (br_if $done (i32.ge_u (local.get $s) (local.get $e)))
        (local.set $b (i32.load8_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        ;; Most bytes are plain: not a control, '[', '\', DEL or 0xC2.
        (block $keep
          (br_if $keep (i32.and
            (i32.and (i32.ge_u (local.get $b) (i32.const 0x20))
                     (i32.gt_u (i32.sub (local.get $b) (i32.const 0x5b)) (i32.const 1)))
            (i32.and (i32.ne (local.get $b) (i32.const 0x7f)) (i32.ne (local.get $b) (i32.const 0xc2)))))
          ;; A backslash takes the next byte literally.
          (if (i32.eq (local.get $b) (i32.const 0x5c))
            (then
              (br_if $keep (i32.ge_u (local.get $s) (local.get $e)))
              (local.set $b (i32.load8_u (local.get $s)))
              (local.set $s (i32.add (local.get $s) (i32.const 1)))))
          (br_if $keep (i32.eqz (call $isSpecial (local.get $b))))
          (if (i32.eq (local.get $b) (i32.const 0xc2))
            (then
              (if (i32.lt_u (local.get $s) (local.get $e))
                (then
                  (if (i32.le_u (i32.sub (i32.load8_u (local.get $s)) (i32.const 0x80)) (i32.const 0x1f))
                    (then
                      (local.set $s (i32.add (local.get $s) (i32.const 1)))
                      (br $byte)))))
              (br $keep)))
          (if (i32.eq (local.get $b) (i32.const 0x5b))
            (then
              (if (if (result i32) (i32.eq (local.get $o) (local.get $o0))
                    (then (local.get $start))
                    (else (call $atLineStart (local.get $o) (i32.const -1) (i32.const -1) (i32.const 0))))
                (then (global.set $flags (i32.or (global.get $flags) (i32.const 2)))))
              (br $keep)))
          (if (i32.eq (local.get $b) (i32.const 0x08))
            (then
              (global.set $flags (i32.or (global.get $flags) (i32.const 1)))
              (br $keep)))
          (br $byte))
        (i32.store8 (local.get $o) (local.get $b))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $byte)))
    (local.get $o))

  ;; Cleaning a block, the way that costs least on ordinary logs: most blocks hold escape
  ;; sequences and nothing else that cleaning changes, so $cleanEscapes handles ESC alone, and
  ;; $scan, which counts the line breaks of its output anyway, also looks there for what it left
  ;; (a control byte, a line starting with '['). Only then is the block cleaned again by
  ;; $cleanAll, which stops at every byte that matters. (Stopping at each of them in one pass
  ;; would cost a third of the speed: every test added to the 16-byte step lengthens the chain
  ;; from one step to the next, and '[' alone stands on most lines of a pytest log.)
  ;;
  ;; Cleans the $n bytes at $src into $dst; returns the length written, and leaves in $flags what
  ;; TypeScript must clean instead and in $lines the line breaks written. $bol: whether the input
  ;; starts a line (0 for a piece cut out of a long one). $thorough: go to $cleanAll at once, as
  ;; the caller expects this block to need it (bit 2 of $flags said so of the last one: on a
  ;; timestamp-lines agent every block does). The two ranges must not overlap: plain text is
  ;; stored 16 bytes at a time, up to 15 bytes past what is kept (never past $dst + $n).
  (func (export "clean") (param $src i32) (param $n i32) (param $dst i32) (param $bol i32) (param $thorough i32)
    (result i32)
    (local $length i32)
    (if (i32.eqz (local.get $thorough))
      (then
        (global.set $flags (i32.const 0))
        (global.set $apcMiss (i32.const 0))
        (local.set $length (call $cleanEscapes (local.get $src) (local.get $n) (local.get $dst) (local.get $bol)))
        (if (i32.eqz (call $scan (local.get $dst) (local.get $length) (local.get $bol)))
          (then (return (local.get $length))))))
    (global.set $flags (i32.const 0))
    (global.set $apcMiss (i32.const 0))
    (local.set $length (call $cleanAll (local.get $src) (local.get $n) (local.get $dst) (local.get $bol)))
    (drop (call $scan (local.get $dst) (local.get $length) (local.get $bol)))
    (local.get $length))

  ;; Rule 1 alone: what clean leaves when nothing else in the block needs cleaning.
  (func $cleanEscapes (param $src i32) (param $n i32) (param $dst i32) (param $bol i32) (result i32)
    (local $i i32) (local $end i32) (local $o i32) (local $v v128) (local $mask i32) (local $b i32) (local $e i32)
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (local.set $o (local.get $dst))
    (block $finished
      (loop $resume
        ;; The hot loop leaves for an OSC string only: a call in it would cost every step.
        (block $osc
          (loop $next
            (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
              (then
                ;; 16 bytes at a time: stored whole, the output advancing up to the first ESC among them.
                (local.set $v (v128.load (local.get $i)))
                (v128.store (local.get $o) (local.get $v))
                (local.set $mask (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x1b)))))
                (if (i32.eqz (local.get $mask))
                  (then
                    (local.set $i (i32.add (local.get $i) (i32.const 16)))
                    (local.set $o (i32.add (local.get $o) (i32.const 16)))
                    (br $next)))
                (local.set $mask (i32.ctz (local.get $mask)))
                (local.set $o (i32.add (local.get $o) (local.get $mask)))
                (local.set $i (i32.add (local.get $i) (local.get $mask))))
              (else
                ;; The last few bytes, one at a time.
                (br_if $finished (i32.ge_u (local.get $i) (local.get $end)))
                (local.set $b (i32.load8_u (local.get $i)))
                (if (i32.ne (local.get $b) (i32.const 0x1b))
                  (then
                    (i32.store8 (local.get $o) (local.get $b))
                    (local.set $o (i32.add (local.get $o) (i32.const 1)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $next)))))
            (local.set $e (call $escapeEnd (local.get $i) (local.get $end)))
            (br_if $osc (i32.lt_s (local.get $e) (i32.const 0)))
            (local.set $i (local.get $e))
            (br $next)))
        (local.set $e (i32.and (local.get $e) (i32.const 0x7fffffff)))
        (local.set $o (call $element
          (i32.add (local.get $i) (i32.const 2)) (call $bodyEnd (local.get $e)) (local.get $o)
          (call $atLineStart (local.get $o) (i32.const -1) (local.get $dst) (local.get $bol))))
        (local.set $i (local.get $e))
        (br $resume)))
    (i32.sub (local.get $o) (local.get $dst)))

  ;; Where the body of the OSC string ending at $e ends: before its BEL or ESC \.
  (func $bodyEnd (param $e i32) (result i32)
    (select (i32.sub (local.get $e) (i32.const 1)) (i32.sub (local.get $e) (i32.const 2))
            (i32.eq (i32.load8_u (i32.sub (local.get $e) (i32.const 1))) (i32.const 0x07))))

  ;; Rules 1 to 3, stopping at every byte $isSpecial picks.
  (func $cleanAll (param $src i32) (param $n i32) (param $dst i32) (param $bol i32) (result i32)
    (local $i i32) (local $end i32) (local $o i32) (local $v v128) (local $mask i32) (local $b i32) (local $e i32)
    (local $stripped i32)
    (local.set $stripped (i32.const -1))
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (local.set $o (local.get $dst))
    (block $finished
      (loop $next
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            ;; 16 bytes at a time: stored whole, the output advancing up to the first byte that
            ;; $isSpecial picks (the swizzle covers 0x00-0x0f, indices past 15 giving 0).
            (local.set $v (v128.load (local.get $i)))
            (v128.store (local.get $o) (local.get $v))
            (local.set $mask (i8x16.bitmask (v128.or
              (v128.or
                (i8x16.swizzle (v128.const i8x16 -1 -1 -1 -1 -1 -1 -1 -1 -1 0 0 -1 -1 0 -1 -1) (local.get $v))
                (i8x16.eq (v128.and (local.get $v) (i8x16.splat (i32.const 0xf0))) (i8x16.splat (i32.const 0x10))))
              (v128.or
                (v128.or
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x7f)))
                  (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0xc2))))
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5b)))))))
            (if (i32.eqz (local.get $mask))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $next)))
            (local.set $mask (i32.ctz (local.get $mask)))
            (local.set $o (i32.add (local.get $o) (local.get $mask)))
            (local.set $i (i32.add (local.get $i) (local.get $mask))))
          (else
            ;; The last few bytes, one at a time.
            (br_if $finished (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $b (i32.load8_u (local.get $i)))
            (if (i32.eqz (call $isSpecial (local.get $b)))
              (then
                (i32.store8 (local.get $o) (local.get $b))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))))
        ;; A byte $isSpecial picks, at $i.
        (local.set $b (i32.load8_u (local.get $i)))
        (block $handled
          (if (i32.eq (local.get $b) (i32.const 0x1b))
            (then
              (local.set $e (call $escapeEnd (local.get $i) (local.get $end)))
              (if (i32.lt_s (local.get $e) (i32.const 0))
                (then
                  (local.set $e (i32.and (local.get $e) (i32.const 0x7fffffff)))
                  (local.set $o (call $element
                    (i32.add (local.get $i) (i32.const 2)) (call $bodyEnd (local.get $e)) (local.get $o)
                    (call $atLineStart (local.get $o) (local.get $stripped) (local.get $dst) (local.get $bol))))))
              (local.set $i (local.get $e))
              (br $handled)))
          (if (i32.eq (local.get $b) (i32.const 0x5b))
            (then
              (if (call $atLineStart (local.get $o) (local.get $stripped) (local.get $dst) (local.get $bol))
                (then
                  (global.set $flags (i32.or (global.get $flags) (i32.const 4)))
                  (local.set $e (call $prefixEnd (local.get $i) (local.get $end)))
                  (if (local.get $e)
                    (then
                      (local.set $i (local.get $e))
                      (local.set $stripped (local.get $o))
                      (br $handled)))))
              (i32.store8 (local.get $o) (local.get $b))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $handled)))
          (if (i32.eq (local.get $b) (i32.const 0xc2))
            (then
              (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $end))
                (then
                  (if (i32.le_u (i32.sub (i32.load8_u offset=1 (local.get $i)) (i32.const 0x80)) (i32.const 0x1f))
                    (then
                      (global.set $flags (i32.or (global.get $flags) (i32.const 4)))
                      (local.set $i (i32.add (local.get $i) (i32.const 2)))
                      (br $handled)))))
              (i32.store8 (local.get $o) (local.get $b))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $handled)))
          (if (i32.eq (local.get $b) (i32.const 0x08))
            (then
              (global.set $flags (i32.or (global.get $flags) (i32.const 1)))
              (i32.store8 (local.get $o) (local.get $b))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $handled)))
          ;; Any other control byte is dropped.
          (global.set $flags (i32.or (global.get $flags) (i32.const 4)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (br $next)))
    (i32.sub (local.get $o) (local.get $dst)))

  ;; What the last clean left to TypeScript ($flags).
  (func (export "flags") (result i32)
    (global.get $flags))

  ;; The line breaks the last clean wrote.
  (func (export "lines") (result i32)
    (global.get $lines))

  ;; Counts in $lines the line breaks in the $n bytes at $p: each LF, and each CR not followed by
  ;; LF (a CR in the last byte counts: the caller knows whether the next block starts with LF).
  ;; Returns 1 when $cleanAll must clean the block: the bytes hold a control byte (TAB, LF and CR
  ;; aside), the first byte of a C1 control, or '[' at a line start ($bol: whether $p is one).
  (func $scan (param $p i32) (param $n i32) (param $bol i32) (result i32)
    (local $end i32) (local $v v128) (local $lf i32) (local $cr i32) (local $count i32) (local $b i32)
    (local $found v128) (local $eqlf v128) (local $eqcr v128) (local $breaks v128) (local $last v128)
    (local $starts i32)
    (local $kLF v128) (local $kCR v128) (local $kHigh v128) (local $k10 v128) (local $kDEL v128) (local $kC2 v128)
    (local $kBracket v128) (local $kControls v128)
    ;; The constants, in registers for the loop.
    (local.set $kLF (i8x16.splat (i32.const 0x0a)))
    (local.set $kCR (i8x16.splat (i32.const 0x0d)))
    (local.set $kHigh (i8x16.splat (i32.const 0xf0)))
    (local.set $k10 (i8x16.splat (i32.const 0x10)))
    (local.set $kDEL (i8x16.splat (i32.const 0x7f)))
    (local.set $kC2 (i8x16.splat (i32.const 0xc2)))
    (local.set $kBracket (i8x16.splat (i32.const 0x5b)))
    (local.set $kControls (v128.const i8x16 -1 -1 -1 -1 -1 -1 -1 -1 -1 0 0 -1 -1 0 -1 -1))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    ;; Lane 15 of $last: the byte before the next step ended a line (or $p starts one).
    (local.set $last (i8x16.replace_lane 15 (v128.const i64x2 0 0) (i32.sub (i32.const 0) (local.get $bol))))
    (block $finished
      (loop $next
        ;; 16 bytes at a time, reading one byte past them to see what follows a CR in the last.
        (if (i32.lt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end))
          (then
            (local.set $v (v128.load (local.get $p)))
            (local.set $eqlf (i8x16.eq (local.get $v) (local.get $kLF)))
            (local.set $eqcr (i8x16.eq (local.get $v) (local.get $kCR)))
            (local.set $lf (i32.or
              (i8x16.bitmask (local.get $eqlf))
              (i32.shl (i32.eq (i32.load8_u offset=16 (local.get $p)) (i32.const 0x0a)) (i32.const 16))))
            (local.set $cr (i8x16.bitmask (local.get $eqcr)))
            (local.set $count (i32.add (local.get $count) (i32.add
              (i32.popcnt (i32.and (local.get $lf) (i32.const 0xffff)))
              (i32.popcnt (i32.and (local.get $cr) (i32.xor (i32.shr_u (local.get $lf) (i32.const 1)) (i32.const -1)))))))
            ;; What $cleanAll would change: a control (the swizzle takes 0x00-0x0f, indices past 15
            ;; giving 0), DEL, 0xC2, or a '[' whose previous byte ended a line ($breaks one lane on).
            ;; No branch: which steps hold one follows the text, and a mispredicted branch per line
            ;; would cost more than these few instructions per step.
            (local.set $breaks (v128.or (local.get $eqlf) (local.get $eqcr)))
            (local.set $found (v128.or (local.get $found) (v128.or
              (v128.or
                (i8x16.swizzle (local.get $kControls) (local.get $v))
                (i8x16.eq (v128.and (local.get $v) (local.get $kHigh)) (local.get $k10)))
              (v128.or
                (v128.or
                  (i8x16.eq (local.get $v) (local.get $kDEL))
                  (i8x16.eq (local.get $v) (local.get $kC2)))
                (v128.and
                  (i8x16.shuffle 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 (local.get $last) (local.get $breaks))
                  (i8x16.eq (local.get $v) (local.get $kBracket)))))))
            (local.set $last (local.get $breaks))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $next)))
        (local.set $starts (i32.ne (i8x16.extract_lane_u 15 (local.get $last)) (i32.const 0)))
        (loop $tail
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
          (if (call $isSpecial (local.get $b))
            (then
              (if (i32.or (i32.ne (local.get $b) (i32.const 0x5b)) (local.get $starts))
                (then (local.set $found (v128.const i64x2 -1 -1))))))
          (local.set $starts (i32.or (i32.eq (local.get $b) (i32.const 0x0a)) (i32.eq (local.get $b) (i32.const 0x0d))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $tail))))
    (global.set $lines (local.get $count))
    (v128.any_true (local.get $found))))
