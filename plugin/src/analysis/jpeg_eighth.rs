//! A baseline JPEG at an eighth of its size (one pixel for each 8x8 block), exactly as
//! libjpeg-turbo decodes it at that scale, in about three quarters of its time (the bench's 4000 x
//! 3000 JPEG: 25 ms against 33).
//!
//! At an eighth, libjpeg-turbo keeps only each block's average (its DC coefficient,
//! `jpeg_idct_1x1`), but for 4:2:0 chroma, which it decodes at a quarter through its reduced
//! 2x2 inverse DCT (`jpeg_idct_2x2`) rather than upsampling it; 4:2:2 chroma is repeated across
//! two pixels; then its YCbCr -> RGB tables. Nearly all of the time is the entropy decoding, and
//! nearly all of that the AC coefficients that are then thrown away: here each is skipped with
//! one table lookup (its Huffman code and its magnitude bits together) where libjpeg-turbo
//! decodes the code and then drops the bits.
//!
//! Only what the tests prove identical with libjpeg-turbo is read here: 8-bit baseline
//! (sequential Huffman) JPEGs of one grey or three YCbCr components in one scan, their chroma at
//! full, half-across or half-both-ways resolution, with or without restart markers. Anything
//! else, and anything damaged (a bad code, data running out, a marker inside the scan where no
//! restart is due), is `None`: libjpeg-turbo then reads the file as before and says what is
//! wrong.

use image::metadata::Orientation;

/// An 8-bit RGB picture, an eighth of the JPEG's size each way (rounded up).
pub struct Eighth {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
    /// The EXIF orientation, when the file has one.
    pub orientation: Option<Orientation>,
}

/// The coefficient in natural (row-major) order of each zigzag position.
const NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Bits a Huffman code is looked up by at once (longer codes are found canonically).
const LOOKAHEAD: u32 = 10;
/// Bits an AC code and its magnitude bits are skipped by at once.
const SKIP: u32 = 12;

/// A Huffman table as decoding reads it.
struct Table {
    /// For the next [`LOOKAHEAD`] bits: `(code length << 8) | symbol`, or 0 when the code is
    /// longer.
    fast: Vec<u16>,
    /// For the next [`SKIP`] bits: `(code length + magnitude bits) << 8 | coefficients passed`
    /// (0 passed: the end of the block), or 0 when that is longer.
    skip: Vec<u16>,
    /// For each code length, the largest code (-1: none) and the offset from a code to its
    /// symbol's index in `symbols`.
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Table {
    /// From a DHT segment's 16 counts and its symbols; `None` for a table no decoder accepts.
    fn new(counts: &[u8], symbols: &[u8], dc: bool) -> Option<Table> {
        if dc && symbols.iter().any(|&s| s > 15) {
            return None;
        }
        let mut t = Table {
            fast: vec![0; 1 << LOOKAHEAD],
            skip: vec![0; 1 << SKIP],
            max_code: [-1; 17],
            offset: [0; 17],
            symbols: symbols.to_vec(),
        };
        let (mut code, mut index) = (0u32, 0usize);
        for (len, &count) in (1..=16u32).zip(counts) {
            if count > 0 {
                t.offset[len as usize] = index as i32 - code as i32;
            }
            for _ in 0..count {
                if code >= 1 << len {
                    return None;
                }
                let symbol = *symbols.get(index)?;
                if len <= LOOKAHEAD {
                    let shift = LOOKAHEAD - len;
                    let entry = ((len as u16) << 8) | u16::from(symbol);
                    let first = (code << shift) as usize;
                    t.fast[first..first + (1 << shift)].fill(entry);
                }
                let (run, size) = (symbol >> 4, u32::from(symbol & 15));
                if !dc && len + size <= SKIP {
                    let passed = match (size, run) {
                        (0, 15) => 16,
                        (0, _) => 0,
                        _ => u16::from(run) + 1,
                    };
                    let shift = SKIP - len;
                    let first = (code << shift) as usize;
                    let entry = (((len + size) as u16) << 8) | passed;
                    t.skip[first..first + (1 << shift)].fill(entry);
                }
                t.max_code[len as usize] = code as i32;
                code += 1;
                index += 1;
            }
            code <<= 1;
        }
        Some(t)
    }
}

/// The entropy-coded data as bits. Past a marker (or the end) it reads zeros and remembers how
/// many it added: reading any of them means the data ran out.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    /// The next bits, first in the top bit; `count` of them are valid.
    acc: u64,
    count: u32,
    added: u32,
}

impl Bits<'_> {
    /// At least 57 valid bits.
    #[inline(always)]
    fn fill(&mut self) {
        if self.added == 0 && self.count <= 32 {
            if let Some(four) = self.data.get(self.at..self.at + 4) {
                let word = u32::from_be_bytes([four[0], four[1], four[2], four[3]]);
                // (No 0xFF byte among the four: no stuffing and no marker.)
                let inverse = !word;
                if inverse.wrapping_sub(0x0101_0101) & !inverse & 0x8080_8080 == 0 {
                    self.acc |= u64::from(word) << (32 - self.count);
                    self.count += 32;
                    self.at += 4;
                }
            }
        }
        while self.count <= 56 {
            let byte = match (
                self.added,
                self.data.get(self.at),
                self.data.get(self.at + 1),
            ) {
                (0, Some(&0xFF), Some(&0)) => {
                    self.at += 2;
                    0xFF
                }
                (0, Some(&b), _) if b != 0xFF => {
                    self.at += 1;
                    b
                }
                _ => {
                    self.added += 8;
                    0
                }
            };
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline(always)]
    fn drop(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// `n` bits (1 to 16) as a signed value, JPEG's way (`HUFF_EXTEND`).
    #[inline(always)]
    fn signed(&mut self, n: u32) -> i32 {
        let v = self.peek(n) as i32;
        self.drop(n);
        if v < 1 << (n - 1) {
            v - (1 << n) + 1
        } else {
            v
        }
    }

    /// The next symbol of `t` (at least 16 valid bits); `None` for a code the table lacks.
    #[inline(always)]
    fn symbol(&mut self, t: &Table) -> Option<u8> {
        let entry = t.fast[self.peek(LOOKAHEAD) as usize];
        if entry >> 8 != 0 {
            self.drop(u32::from(entry >> 8));
            return Some(entry as u8);
        }
        let bits = self.peek(16) as i32;
        for len in LOOKAHEAD + 1..=16 {
            let code = bits >> (16 - len);
            if code <= t.max_code[len as usize] {
                self.drop(len);
                return t
                    .symbols
                    .get((t.offset[len as usize] + code) as usize)
                    .copied();
            }
        }
        None
    }

    /// Whether every bit read was the file's.
    fn sound(&self) -> bool {
        self.count >= self.added
    }

    /// Past the end of a restart interval: whatever is left of it (its last byte's padding)
    /// passed over, as libjpeg-turbo passes over anything before the next marker, which must be
    /// restart marker `n`; the bits start again after it.
    fn restart(&mut self, n: usize) -> Option<()> {
        let at = self.next_marker(0xD0 + (n % 8) as u8)?;
        (self.at, self.acc, self.count, self.added) = (at, 0, 0, 0);
        Some(())
    }

    /// Where the data goes on after marker `marker`, which must be the next one (after whatever
    /// is left of the bits read so far, passed over); `None` if any bit read was not the file's.
    fn next_marker(&self, marker: u8) -> Option<usize> {
        if !self.sound() {
            return None;
        }
        let mut at = self.at;
        loop {
            match (self.data.get(at)?, self.data.get(at + 1)) {
                (0xFF, Some(0xFF)) => at += 1,
                (0xFF, Some(0)) => at += 2,
                (0xFF, _) => break,
                _ => at += 1,
            }
        }
        (*self.data.get(at + 1)? == marker).then_some(at + 2)
    }
}

/// A block's coefficients skipped but for the DC difference, which is returned.
#[inline(always)]
fn skip_block(bits: &mut Bits, dc: &Table, ac: &Table) -> Option<i32> {
    bits.fill();
    let size = u32::from(bits.symbol(dc)?);
    let diff = if size > 0 { bits.signed(size) } else { 0 };
    let mut k = 1;
    while k < 64 {
        if bits.count < 32 {
            bits.fill();
        }
        let entry = ac.skip[bits.peek(SKIP) as usize];
        if entry >> 8 != 0 {
            bits.drop(u32::from(entry >> 8));
            match entry & 0xFF {
                0 => break,
                passed => k += usize::from(passed),
            }
            continue;
        }
        let symbol = bits.symbol(ac)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
        if size > 0 {
            bits.drop(size);
            k += run + 1;
        } else if run == 15 {
            k += 16;
        } else {
            break;
        }
    }
    (k <= 64).then_some(diff)
}

/// A block's coefficients in natural order (the DC one its difference), into `block`.
#[inline(always)]
fn read_block(bits: &mut Bits, dc: &Table, ac: &Table, block: &mut [i32; 64]) -> Option<()> {
    block.fill(0);
    bits.fill();
    let size = u32::from(bits.symbol(dc)?);
    block[0] = if size > 0 { bits.signed(size) } else { 0 };
    let mut k = 1;
    while k < 64 {
        if bits.count < 32 {
            bits.fill();
        }
        let symbol = bits.symbol(ac)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
        if size > 0 {
            k += run;
            *block.get_mut(*NATURAL.get(k)?)? = bits.signed(size);
            k += 1;
        } else if run == 15 {
            k += 16;
        } else {
            break;
        }
    }
    Some(())
}

/// libjpeg-turbo's range limit after an inverse DCT: `x + 128` clamped to 0..=255 (as its table
/// has it, through the low ten bits of `x`).
fn idct_limit(x: i64) -> u8 {
    match x & 1023 {
        m @ 0..128 => (m + 128) as u8,
        128..512 => 255,
        512..896 => 0,
        m => (m - 896) as u8,
    }
}

fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// `jpeg_idct_1x1`: a block's one pixel from its DC coefficient.
fn idct_1x1(dc: i32, q: &[u16; 64]) -> u8 {
    idct_limit(descale(i64::from(dc) * i64::from(q[0]), 3))
}

/// `jpeg_idct_2x2` (libjpeg-turbo's jidctred.c, 8-bit samples): a block's 2x2 pixels.
fn idct_2x2(c: &[i32; 64], q: &[u16; 64]) -> [[u8; 2]; 2] {
    const CONST_BITS: u32 = 13;
    const PASS1_BITS: u32 = 2;
    let odd = |at: [i64; 4]| at[0] * -5906 + at[1] * 6967 + at[2] * -10426 + at[3] * 29692;
    let deq = |i: usize| i64::from(c[i]) * i64::from(q[i]);
    // Columns 0, 1, 3, 5 and 7 (the others do not reach a 2x2 output): rows 0 and 1.
    let mut ws = [[0i64; 8]; 2];
    for col in [0, 1, 3, 5, 7] {
        if c[8 + col] == 0 && c[24 + col] == 0 && c[40 + col] == 0 && c[56 + col] == 0 {
            let dc = i64::from((deq(col) << PASS1_BITS) as i32);
            (ws[0][col], ws[1][col]) = (dc, dc);
            continue;
        }
        let even = deq(col) << (CONST_BITS + 2);
        let odd = odd([deq(56 + col), deq(40 + col), deq(24 + col), deq(8 + col)]);
        let n = CONST_BITS - PASS1_BITS + 2;
        ws[0][col] = i64::from(descale(even + odd, n) as i32);
        ws[1][col] = i64::from(descale(even - odd, n) as i32);
    }
    ws.map(|w| {
        if w[1] == 0 && w[3] == 0 && w[5] == 0 && w[7] == 0 {
            let v = idct_limit(i64::from(descale(w[0], PASS1_BITS + 3) as i32));
            return [v, v];
        }
        let even = w[0] << (CONST_BITS + 2);
        let odd = odd([w[7], w[5], w[3], w[1]]);
        let n = CONST_BITS + PASS1_BITS + 3 + 2;
        [
            idct_limit(i64::from(descale(even + odd, n) as i32)),
            idct_limit(i64::from(descale(even - odd, n) as i32)),
        ]
    })
}

/// libjpeg-turbo's YCbCr -> RGB (jdcolor.c: its tables, 16 fractional bits).
struct Ycc {
    cr_r: [i32; 256],
    cb_b: [i32; 256],
    cr_g: [i64; 256],
    cb_g: [i64; 256],
}

impl Ycc {
    fn new() -> Ycc {
        const HALF: i64 = 1 << 15;
        let fix = |x: f64| (x * 65536.0 + 0.5) as i64;
        let mut t = Ycc {
            cr_r: [0; 256],
            cb_b: [0; 256],
            cr_g: [0; 256],
            cb_g: [0; 256],
        };
        for i in 0..256 {
            let x = i as i64 - 128;
            t.cr_r[i] = ((fix(1.40200) * x + HALF) >> 16) as i32;
            t.cb_b[i] = ((fix(1.77200) * x + HALF) >> 16) as i32;
            t.cr_g[i] = -fix(0.71414) * x;
            t.cb_g[i] = -fix(0.34414) * x + HALF;
        }
        t
    }

    fn rgb(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let (y, cb, cr) = (i32::from(y), usize::from(cb), usize::from(cr));
        let limit = |v: i32| v.clamp(0, 255) as u8;
        [
            limit(y + self.cr_r[cr]),
            limit(y + ((self.cb_g[cb] + self.cr_g[cr]) >> 16) as i32),
            limit(y + self.cb_b[cb]),
        ]
    }
}

/// A component of the frame.
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// The picture at an eighth, or `None` where this decoder does not read the file (see the
/// module's notes).
pub fn decode(bytes: &[u8]) -> Option<Eighth> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let (mut dc_tables, mut ac_tables): ([Option<Table>; 4], [Option<Table>; 4]) =
        Default::default();
    let mut frame: Option<(usize, usize, Vec<Component>)> = None;
    let (mut jfif, mut orientation, mut restart) = (false, None, 0);
    let mut at = 2;
    loop {
        // A marker, after any fill bytes.
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let len = be16(bytes, at + 2)?;
        let segment = bytes.get(at + 4..(at + 2 + len).max(at + 4))?;
        if len < 2 {
            return None;
        }
        match marker {
            // Baseline and extended sequential Huffman frames, 8-bit.
            0xC0 | 0xC1 => {
                if frame.is_some() || *segment.first()? != 8 {
                    return None;
                }
                let (height, width) = (be16(segment, 1)?, be16(segment, 3)?);
                let count = usize::from(*segment.get(5)?);
                let components = (0..count)
                    .map(|c| {
                        let b = segment.get(6 + 3 * c..9 + 3 * c)?;
                        let (h, v) = (usize::from(b[1] >> 4), usize::from(b[1] & 15));
                        ((1..=4).contains(&h) && (1..=4).contains(&v) && b[2] < 4).then_some(
                            Component {
                                id: b[0],
                                h,
                                v,
                                quant: usize::from(b[2]),
                            },
                        )
                    })
                    .collect::<Option<Vec<_>>>()?;
                if width == 0 || height == 0 {
                    return None;
                }
                frame = Some((width, height, components));
            }
            // Huffman tables.
            0xC4 => {
                let mut p = 0;
                while p < segment.len() {
                    let (class, slot) = (segment[p] >> 4, usize::from(segment[p] & 15));
                    let counts = segment.get(p + 1..p + 17)?;
                    let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let symbols = segment.get(p + 17..p + 17 + n)?;
                    let table = Table::new(counts, symbols, class == 0)?;
                    match class {
                        0 => *dc_tables.get_mut(slot)? = Some(table),
                        1 => *ac_tables.get_mut(slot)? = Some(table),
                        _ => return None,
                    }
                    p += 17 + n;
                }
            }
            // Quantisation tables (stored in zigzag order).
            0xDB => {
                let mut p = 0;
                while p < segment.len() {
                    let (wide, slot) = (segment[p] >> 4, usize::from(segment[p] & 15));
                    let size = if wide == 0 { 1 } else { 2 };
                    let values = segment.get(p + 1..p + 1 + 64 * size)?;
                    let mut table = [0u16; 64];
                    for (k, v) in values.chunks_exact(size).enumerate() {
                        table[NATURAL[k]] = v.iter().fold(0u16, |a, &b| (a << 8) | u16::from(b));
                    }
                    *quant.get_mut(slot)? = Some(table);
                    p += 1 + 64 * size;
                }
            }
            // A restart interval, in MCUs.
            0xDD => restart = be16(segment, 0)?,
            // An Adobe marker (which may say RGB or CMYK), the end, a number of lines to come,
            // or any other frame type.
            0xEE | 0xD9 | 0xDC | 0xC2..=0xCF | 0xD0..=0xD8 | 0x01 => return None,
            0xE0 => jfif |= segment.starts_with(b"JFIF\0"),
            0xE1 => {
                orientation = orientation.or_else(|| {
                    segment
                        .strip_prefix(b"Exif\0\0")
                        .and_then(Orientation::from_exif_chunk)
                })
            }
            0xDA => {
                let (width, height, components) = frame?;
                // libjpeg-turbo reads three components without JFIF or Adobe markers named R, G
                // and B as RGB.
                let ids: Vec<u8> = components.iter().map(|c| c.id).collect();
                if !jfif && ids == b"RGB" {
                    return None;
                }
                let count = usize::from(*segment.first()?);
                if count != components.len() || segment.len() != 4 + 2 * count {
                    return None;
                }
                let mut tables = Vec::with_capacity(count);
                for (c, component) in components.iter().enumerate() {
                    let b = segment.get(1 + 2 * c..3 + 2 * c)?;
                    if b[0] != component.id {
                        return None;
                    }
                    let dc = dc_tables.get(usize::from(b[1] >> 4))?.as_ref()?;
                    let ac = ac_tables.get(usize::from(b[1] & 15))?.as_ref()?;
                    tables.push((dc, ac, quant[component.quant]?));
                }
                if segment[1 + 2 * count..] != [0, 63, 0] {
                    return None;
                }
                let scan = Scan {
                    width,
                    height,
                    components: &components,
                    tables: &tables,
                    restart,
                };
                let rgb = scan.decode(bytes.get(at + 2 + len..)?)?;
                return Some(Eighth {
                    width: width.div_ceil(8),
                    height: height.div_ceil(8),
                    rgb,
                    orientation,
                });
            }
            // Other application segments and comments are passed over; any other marker is
            // one libjpeg-turbo refuses.
            0xE2..=0xEF | 0xFE => {}
            _ => return None,
        }
        at += 2 + len;
    }
}

/// The one scan of a frame, each component with its DC and AC tables and quantisation.
struct Scan<'a> {
    width: usize,
    height: usize,
    components: &'a [Component],
    tables: &'a [(&'a Table, &'a Table, [u16; 64])],
    /// MCUs in a restart interval (0: none).
    restart: usize,
}

impl Scan<'_> {
    fn decode(&self, data: &[u8]) -> Option<Vec<u8>> {
        let (ow, oh) = (self.width.div_ceil(8), self.height.div_ceil(8));
        let mut rgb = vec![0u8; ow.checked_mul(oh)?.checked_mul(3)?];
        let mut bits = Bits {
            data,
            at: 0,
            acc: 0,
            count: 0,
            added: 0,
        };
        // Before MCU `mcu`: a restart, where an interval ends (the DC predictions start again).
        let restart = self.restart;
        let interval_ends = |bits: &mut Bits, mcu: usize, pred: &mut [i32]| -> Option<()> {
            if restart > 0 && mcu > 0 && mcu.is_multiple_of(restart) {
                bits.restart(mcu / restart - 1)?;
                pred.fill(0);
            }
            Some(())
        };
        let mut put = |x: usize, y: usize, p: [u8; 3]| {
            if x < ow && y < oh {
                rgb[3 * (y * ow + x)..][..3].copy_from_slice(&p);
            }
        };
        match (self.components, self.tables) {
            ([_], [(dc, ac, q)]) => {
                // One component: its blocks one by one, row after row.
                let mut pred = [0i32];
                for y in 0..oh {
                    for x in 0..ow {
                        interval_ends(&mut bits, y * ow + x, &mut pred)?;
                        pred[0] = pred[0].checked_add(skip_block(&mut bits, dc, ac)?)?;
                        let g = idct_1x1(i32::from(i16::try_from(pred[0]).ok()?), q);
                        put(x, y, [g, g, g]);
                    }
                }
            }
            ([luma, cb, cr], [(ldc, lac, lq), (bdc, bac, bq), (rdc, rac, rq)]) => {
                if (cb.h, cb.v, cr.h, cr.v) != (1, 1, 1, 1) {
                    return None;
                }
                let (h, v) = (luma.h, luma.v);
                if !matches!((h, v), (1, 1) | (2, 1) | (2, 2)) {
                    return None;
                }
                let ycc = Ycc::new();
                let mut pred = [0i32; 3];
                let dc = |p: &mut i32, diff: i32| -> Option<i32> {
                    *p = p.checked_add(diff)?;
                    i16::try_from(*p).ok().map(i32::from)
                };
                let mut block = [0i32; 64];
                let mut ys = [0u8; 4];
                let across = self.width.div_ceil(8 * h);
                for my in 0..self.height.div_ceil(8 * v) {
                    for mx in 0..across {
                        interval_ends(&mut bits, my * across + mx, &mut pred)?;
                        for y in ys.iter_mut().take(h * v) {
                            let diff = skip_block(&mut bits, ldc, lac)?;
                            *y = idct_1x1(dc(&mut pred[0], diff)?, lq);
                        }
                        if (h, v) == (2, 2) {
                            // Chroma at 2x2 per block, one value for each pixel.
                            let mut chroma = [[[0u8; 2]; 2]; 2];
                            for (c, (table_dc, table_ac, q)) in
                                [(bdc, bac, bq), (rdc, rac, rq)].into_iter().enumerate()
                            {
                                read_block(&mut bits, table_dc, table_ac, &mut block)?;
                                block[0] = dc(&mut pred[c + 1], block[0])?;
                                chroma[c] = idct_2x2(&block, q);
                            }
                            for (k, &y) in ys.iter().enumerate() {
                                let (dx, dy) = (k % 2, k / 2);
                                let (b, r) = (chroma[0][dy][dx], chroma[1][dy][dx]);
                                put(2 * mx + dx, 2 * my + dy, ycc.rgb(y, b, r));
                            }
                        } else {
                            let b = skip_block(&mut bits, bdc, bac)?;
                            let b = idct_1x1(dc(&mut pred[1], b)?, bq);
                            let r = skip_block(&mut bits, rdc, rac)?;
                            let r = idct_1x1(dc(&mut pred[2], r)?, rq);
                            for (dx, &y) in ys.iter().take(h).enumerate() {
                                put(h * mx + dx, my, ycc.rgb(y, b, r));
                            }
                        }
                    }
                }
            }
            _ => return None,
        }
        // The scan is the picture's last: the end of the file follows.
        bits.next_marker(0xD9).map(|_| rgb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode::libjpeg_scaled;
    use jpeg_encoder::SamplingFactor;

    /// A picture with smooth light, noise and hard coloured edges (large chroma AC terms).
    fn pixels(w: usize, h: usize, channels: usize, seed: u64) -> Vec<u8> {
        let mut noise = crate::test_support::Noise::new(seed);
        (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                let n = (noise.next_u64() % 40) as usize;
                let edge = (x / 7 + y / 5) % 3;
                let rgb = [
                    (x * 255 / w.max(1) + n) % 256,
                    if edge == 0 { 230 } else { 20 + n },
                    (y * 255 / h.max(1) + 3 * n) % 256,
                ];
                let grey = (rgb[0] + rgb[1] + rgb[2]) / 3;
                let p: Vec<u8> = if channels == 1 {
                    vec![grey as u8]
                } else {
                    rgb.iter().map(|&v| v as u8).collect()
                };
                p
            })
            .collect()
    }

    /// A baseline JPEG by libjpeg-turbo's encoder (mozjpeg in its libjpeg-turbo mode).
    fn baseline(w: usize, h: usize, grey: bool, sampling: (u8, u8), quality: f32) -> Vec<u8> {
        let space = if grey {
            mozjpeg::ColorSpace::JCS_GRAYSCALE
        } else {
            mozjpeg::ColorSpace::JCS_RGB
        };
        let mut c = mozjpeg::Compress::new(space);
        c.set_fastest_defaults();
        c.set_size(w, h);
        c.set_quality(quality);
        // (Optimised Huffman tables: codes of every length, the long ones too.)
        c.set_optimize_coding(quality < 60.0);
        if !grey {
            c.set_chroma_sampling_pixel_sizes(sampling, sampling);
        }
        let mut started = c.start_compress(Vec::new()).unwrap();
        let channels = if grey { 1 } else { 3 };
        started
            .write_scanlines(&pixels(w, h, channels, (w * h) as u64))
            .unwrap();
        started.finish().unwrap()
    }

    fn same_as_libjpeg(bytes: &[u8], what: &str) {
        let ours = decode(bytes).unwrap_or_else(|| panic!("{what}: not read"));
        let (w, h, cmyk, rgb, orientation) = libjpeg_scaled(bytes, 1).unwrap();
        assert!(!cmyk);
        assert_eq!((ours.width, ours.height), (w, h), "{what}");
        assert_eq!(ours.orientation, orientation, "{what}");
        let differ = ours.rgb.iter().zip(&rgb).filter(|(a, b)| a != b).count();
        assert!(
            ours.rgb == rgb,
            "{what}: {differ} of {} values differ",
            rgb.len()
        );
    }

    #[test]
    fn an_eighth_is_libjpeg_turbos_to_the_byte() {
        for (w, h) in [
            (1, 1),
            (17, 9),
            (64, 64),
            (333, 201),
            (1000, 750),
            (8, 1001),
        ] {
            for (sampling, name) in [((1, 1), "4:4:4"), ((2, 1), "4:2:2"), ((2, 2), "4:2:0")] {
                for quality in [15.0, 75.0, 100.0] {
                    let what = format!("{w} x {h}, {name}, quality {quality}");
                    same_as_libjpeg(&baseline(w, h, false, sampling, quality), &what);
                }
            }
            let what = format!("{w} x {h}, grey");
            same_as_libjpeg(&baseline(w, h, true, (1, 1), 80.0), &what);
        }
        // Another encoder's (the image crate's) and real photos (4:2:0), and one turned by EXIF.
        let img = image::RgbImage::from_fn(301, 157, |x, y| {
            image::Rgb([(x % 256) as u8, (y * 3 % 256) as u8, ((x * y) % 251) as u8])
        });
        let mut other = std::io::Cursor::new(Vec::new());
        img.write_to(&mut other, image::ImageFormat::Jpeg).unwrap();
        same_as_libjpeg(other.get_ref(), "the image crate's JPEG");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
        for name in [
            "content/astronaut.jpg",
            "content/boats.jpg",
            "content/cat.jpg",
            "content/coffee.jpg",
            "content/cups.jpg",
            "content/forest.jpg",
            "content/hopper.jpg",
            "pictures/oriented.jpg",
        ] {
            same_as_libjpeg(&std::fs::read(format!("{dir}/{name}")).unwrap(), name);
        }
        let oriented = std::fs::read(format!("{dir}/pictures/oriented.jpg")).unwrap();
        assert!(decode(&oriented).unwrap().orientation.is_some());
    }

    /// A JPEG with a restart marker every `interval` MCUs (jpeg-encoder's).
    fn with_restarts(w: u16, h: u16, sampling: Option<SamplingFactor>, interval: u16) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = jpeg_encoder::Encoder::new(&mut out, 80);
        e.set_restart_interval(interval);
        let (channels, colour) = match sampling {
            Some(s) => {
                e.set_sampling_factor(s);
                (3, jpeg_encoder::ColorType::Rgb)
            }
            None => (1, jpeg_encoder::ColorType::Luma),
        };
        let (w, h) = (usize::from(w), usize::from(h));
        let image = pixels(w, h, channels, (w + h) as u64);
        e.encode(&image, w as u16, h as u16, colour).unwrap();
        out
    }

    #[test]
    fn restart_intervals_are_read_as_libjpeg_turbo_reads_them() {
        let layouts = [
            Some(SamplingFactor::R_4_2_0),
            Some(SamplingFactor::R_4_2_2),
            Some(SamplingFactor::R_4_4_4),
            None,
        ];
        for sampling in layouts {
            for interval in [1, 3, 7, 64] {
                for (w, h) in [(333, 201), (64, 17), (9, 9)] {
                    let bytes = with_restarts(w, h, sampling, interval);
                    let markers = bytes
                        .windows(2)
                        .filter(|m| m[0] == 0xFF && m[1] & 0xF8 == 0xD0);
                    let what = format!("{w} x {h}, {sampling:?}, every {interval} MCUs");
                    // (The smallest pictures have fewer MCUs than an interval.)
                    assert!(markers.count() > 0 || w < 100, "{what}: no restarts");
                    same_as_libjpeg(&bytes, &what);
                }
            }
        }
        // A restart marker damaged or missing: read as libjpeg-turbo reads it, or left to it.
        let whole = with_restarts(200, 120, Some(SamplingFactor::R_4_2_0), 2);
        let restarts: Vec<usize> = (0..whole.len() - 1)
            .filter(|&i| whole[i] == 0xFF && whole[i + 1] & 0xF8 == 0xD0)
            .collect();
        for &at in restarts.iter().step_by(7) {
            for change in [0xD0, 0xD7, 0x00, 0xFF, 0xD9] {
                let mut bytes = whole.clone();
                bytes[at + 1] = change;
                if let Some(ours) = decode(&bytes) {
                    let theirs = libjpeg_scaled(&bytes, 1);
                    let same = theirs.is_some_and(|t| t.3 == ours.rgb);
                    assert!(same, "restart marker at {at} changed to {change:02x}");
                }
            }
        }
    }

    #[test]
    fn what_it_does_not_read_it_leaves_to_libjpeg_turbo() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pictures");
        for name in ["progressive.jpg", "cmyk.jpg"] {
            let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
            assert!(decode(&bytes).is_none(), "{name}");
        }
        // Damaged scans: flipped bits and cut-off data are read as libjpeg-turbo reads them, or
        // left to it, never read otherwise (and never a panic).
        let whole = baseline(200, 120, false, (2, 2), 85.0);
        let scan = whole.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap() + 14;
        let mut noise = crate::test_support::Noise::new(5);
        let (mut read, mut left) = (0, 0);
        for _ in 0..300 {
            let mut bytes = whole.clone();
            let at = scan + (noise.next_u64() as usize) % (bytes.len() - scan - 2);
            bytes[at] ^= 1 << (noise.next_u64() % 8);
            match decode(&bytes) {
                Some(ours) => {
                    read += 1;
                    let theirs = libjpeg_scaled(&bytes, 1).unwrap();
                    assert!(ours.rgb == theirs.3, "a flipped bit at byte {at}");
                }
                None => left += 1,
            }
        }
        assert!(read > 0 && left > 0, "{read} read, {left} left");
        // Anything changed anywhere (the headers and tables in the first 700 bytes, then the
        // whole file: its scan, the markers around it, its end) alike.
        for k in 0..6000 {
            let mut bytes = whole.clone();
            let span = if k < 3000 { 700 } else { bytes.len() };
            let at = (noise.next_u64() as usize) % span;
            bytes[at] = match noise.next_u64() % 3 {
                0 => bytes[at] ^ (1 << (noise.next_u64() % 8)),
                1 => 0xFF,
                _ => noise.next_u64() as u8,
            };
            if let Some(ours) = decode(&bytes) {
                // (What libjpeg-turbo refuses, this decoder refuses too.)
                let theirs = libjpeg_scaled(&bytes, 1);
                let same = theirs.is_some_and(|t| t.3 == ours.rgb);
                assert!(same, "byte {at}: {:02x} -> {:02x}", whole[at], bytes[at]);
            }
        }
        // The end marker changed into another.
        for end in [0xDD, 0xDA, 0xFE, 0xC4, 0xD0] {
            let mut bytes = whole.clone();
            *bytes.last_mut().unwrap() = end;
            if let Some(ours) = decode(&bytes) {
                let theirs = libjpeg_scaled(&bytes, 1);
                assert!(theirs.is_some_and(|t| t.3 == ours.rgb), "end {end:02x}");
            }
        }
        for cut in [scan + 10, whole.len() / 2, whole.len() - 3] {
            assert!(decode(&whole[..cut]).is_none(), "cut at {cut}");
        }
    }
}
