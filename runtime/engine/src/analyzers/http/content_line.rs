//! Splitting one direction of a TCP stream into lines, after Zeek's
//! `ContentLine_Analyzer` as HTTP uses it: CR, LF and CRLF all end a line
//! (only CRLF inside a multipart body part), a stretch of "plain" bytes
//! can be handed on unsplit (bodies of a known length), and a "delivery
//! size" makes a partial line end where a message is known to end.

/// Longest line kept before it is cut (`DEFAULT_MAX_LINE_LENGTH`).
pub const MAX_LINE: usize = 16 * 1024 * 1024 - 100;

/// One thing the splitter found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A complete line without its terminator.
    Line(Vec<u8>),
    /// Plain bytes `start..end` of the data being fed.
    Plain(usize, usize),
    /// A weird the splitter raises (the caller reports each at most once per connection).
    Weird(&'static str),
}

/// Line splitter state of one direction.
#[derive(Clone, Debug)]
pub struct ContentLine {
    buf: Vec<u8>,
    last_char: u8,
    /// CR alone and LF alone end a line too (Zeek's `CR_as_EOL | LF_as_EOL`).
    pub any_eol: bool,
    /// Plain bytes still to hand on unsplit.
    pub plain: i64,
    /// Bytes until the current message ends (-1: unknown), counted per delivery.
    pub delivery_length: i64,
    /// Nothing more is delivered (after a gap outside a body).
    pub skip: bool,
    /// Single-CR / single-LF weirds are not raised (inside multipart parts).
    pub suppress_weirds: bool,
    max_line: usize,
    /// Bytes of the stream seen so far (sequence offset of the next byte).
    pub seq: u64,
    pending: Option<Piece>,
}

impl Default for ContentLine {
    fn default() -> Self {
        ContentLine {
            buf: Vec::new(),
            last_char: 0,
            any_eol: true,
            plain: 0,
            delivery_length: -1,
            skip: false,
            suppress_weirds: false,
            max_line: MAX_LINE,
            seq: 0,
            pending: None,
        }
    }
}

impl ContentLine {
    /// A splitter cutting lines at `max_line` bytes.
    pub fn with_max_line(max_line: usize) -> ContentLine {
        ContentLine { max_line: max_line.max(1), ..ContentLine::default() }
    }

    /// Whether part of a line is buffered.
    pub fn has_partial_line(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Starts the delivery of `len` new bytes (`DeliverStream`'s bookkeeping).
    pub fn begin(&mut self, len: usize) {
        if self.delivery_length > 0 {
            self.delivery_length -= len as i64;
        }
    }

    /// Ends a delivery: whether the buffered partial line must now be ended
    /// (the message's delivery size was reached without a CRLF).
    pub fn end(&mut self, len: usize) -> bool {
        self.seq += len as u64;
        if self.delivery_length == 0 {
            self.delivery_length = -1;
            return self.has_partial_line();
        }
        false
    }

    /// The next piece of `data` from `*pos` on, or `None` once it is used up
    /// (a partial line stays buffered).
    pub fn next(&mut self, data: &[u8], pos: &mut usize) -> Option<Piece> {
        if let Some(p) = self.pending.take() {
            return Some(p);
        }
        loop {
            if self.skip || *pos >= data.len() {
                return None;
            }
            if self.any_eol && self.last_char == b'\r' && data[*pos] == b'\n' {
                // The LF of a CRLF whose CR already ended the line.
                self.last_char = b'\n';
                *pos += 1;
                continue;
            }
            if self.plain > 0 {
                let n = (self.plain as u64).min((data.len() - *pos) as u64) as usize;
                self.last_char = 0;
                self.plain -= n as i64;
                let p = Piece::Plain(*pos, *pos + n);
                *pos += n;
                return Some(p);
            }
            return self.scan(data, pos);
        }
    }

    fn emit(&mut self, c: u8, pos: &mut usize, adv: usize) -> Option<Piece> {
        self.last_char = c;
        *pos += adv;
        Some(Piece::Line(std::mem::take(&mut self.buf)))
    }

    fn scan(&mut self, data: &[u8], pos: &mut usize) -> Option<Piece> {
        while *pos < data.len() {
            let c = data[*pos];
            if self.buf.len() >= self.max_line {
                // The line is cut here; the byte that did not fit is dropped.
                self.last_char = c;
                *pos += 1;
                self.pending = Some(Piece::Line(std::mem::take(&mut self.buf)));
                return Some(Piece::Weird("contentline_size_exceeded"));
            }
            match c {
                b'\r' => {
                    if *pos + 1 < data.len() && data[*pos + 1] == b'\n' {
                        return self.emit(b'\n', pos, 2);
                    } else if self.any_eol {
                        return self.emit(b'\r', pos, 1);
                    }
                    self.buf.push(c);
                }
                b'\n' => {
                    if self.last_char == b'\r' {
                        if self.buf.is_empty() {
                            self.last_char = c;
                            *pos += 1;
                            continue;
                        }
                        self.buf.pop();
                        return self.emit(c, pos, 1);
                    } else if self.any_eol {
                        return self.emit(c, pos, 1);
                    }
                    self.buf.push(c);
                    if !self.suppress_weirds {
                        self.last_char = c;
                        *pos += 1;
                        return Some(Piece::Weird("line_terminated_with_single_LF"));
                    }
                }
                _ => self.buf.push(c),
            }
            let single_cr = self.last_char == b'\r' && !self.suppress_weirds;
            self.last_char = c;
            *pos += 1;
            if single_cr {
                return Some(Piece::Weird("line_terminated_with_single_CR"));
            }
        }
        None
    }
}
