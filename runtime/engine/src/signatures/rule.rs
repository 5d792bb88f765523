//! A signature as the parser leaves it: header conditions, content
//! patterns, other conditions, dependencies and actions, in Zeek's terms.

use std::net::IpAddr;

/// A comparison operator of a condition (`==`/`=`, `!=`, `<`, `<=`, `>`, `>=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `==` or `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl Cmp {
    /// `a <cmp> b` for ordered values.
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// The header a `header proto[off:len]` test reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    /// The IPv4 header (IPv6 packets never match).
    Ip,
    /// The IPv6 fixed header (IPv4 packets never match).
    Ip6,
    /// The transport bytes, read as TCP.
    Tcp,
    /// The transport bytes, read as UDP.
    Udp,
    /// The transport bytes, read as ICMP.
    Icmp,
    /// The transport bytes, read as ICMPv6.
    Icmp6,
}

/// A value with its mask (`header ... & mask`, or an IPv4 literal with its prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Masked {
    /// The value compared with.
    pub val: u32,
    /// The mask applied to the packet's value first.
    pub mask: u32,
}

/// An address prefix (`10.0.0.0/8`, `[2001:db8::]/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// The network address (already masked).
    pub addr: IpAddr,
    /// Prefix length in bits of the address family.
    pub len: u8,
}

/// A header condition; every one of a signature must hold (tested on a
/// side's first packet).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HdrTest {
    /// `src-ip` (`src` true) or `dst-ip`: the address against a prefix list.
    Addr {
        /// Source address when true, destination otherwise.
        src: bool,
        /// The comparison (for `!=`: no prefix may match).
        cmp: Cmp,
        /// The prefixes.
        prefixes: Vec<Prefix>,
    },
    /// `ip-proto`: the transport protocol number.
    NextProto {
        /// The comparison.
        cmp: Cmp,
        /// The values.
        vals: Vec<Masked>,
    },
    /// `header proto[off:len]`, also what `src-port` (`tcp[0:2]`) and
    /// `dst-port` (`tcp[2:2]`) stand for.
    Bytes {
        /// The header read.
        proto: Proto,
        /// Offset into it.
        off: u32,
        /// 1, 2 or 4 bytes, big-endian.
        len: u32,
        /// The comparison (for `!=`: no value may match).
        cmp: Cmp,
        /// The values, each with its mask.
        vals: Vec<Masked>,
    },
}

/// What a content pattern is matched against (Zeek's `Rule::PatternType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatternType {
    /// `payload`: the reassembled TCP stream or each datagram.
    Payload,
    /// `http-request` (`http`): the unescaped request URI.
    HttpUri,
    /// `http-request-header`.
    HttpRequestHeader,
    /// `http-request-body`.
    HttpRequestBody,
    /// `http-reply-header`.
    HttpReplyHeader,
    /// `http-reply-body` (`http-body`).
    HttpReplyBody,
    /// `ftp`: FTP command lines.
    Ftp,
    /// `finger`: finger requests.
    Finger,
    /// `file-magic`: a file's first bytes.
    FileMagic,
}

/// A content pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// What it is matched against.
    pub kind: PatternType,
    /// The regular expression in Zeek's syntax, `(?i:...)` around it for `/.../i`.
    pub regex: String,
    /// The longest match end allowed (`payload [:n] /re/`), `u32::MAX` = none.
    pub depth: u32,
}

/// A context condition (Zeek's `RuleCondition`s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `tcp-state`: a set of [`STATE_ESTABLISHED`]... bits.
    TcpState(u8),
    /// `udp-state`: [`STATE_ORIG`] / [`STATE_RESP`] / [`STATE_STATELESS`] bits.
    UdpState(u8),
    /// `payload-size <cmp> n`: the side's first non-empty chunk.
    PayloadSize(Cmp, u32),
    /// `same-ip`: originator and responder address are the same.
    SameIp,
    /// `ip-options ...`: parsed, never matches (as in Zeek).
    IpOptions,
    /// `eval f`: holds when function `f` of the handler that answers for it
    /// (`weir:events/signature-eval`) says so.
    Eval(String),
}

/// `tcp-state established`.
pub const STATE_ESTABLISHED: u8 = 1;
/// `originator`.
pub const STATE_ORIG: u8 = 2;
/// `responder`.
pub const STATE_RESP: u8 = 4;
/// `stateless`.
pub const STATE_STATELESS: u8 = 8;

/// `requires-signature` / `requires-reverse-signature`, maybe negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requires {
    /// The other signature's id.
    pub id: String,
    /// `requires-reverse-signature`: it must have matched on the other side.
    pub reverse: bool,
    /// `!id`: it must not have matched (decided at the end of the side's data).
    pub negate: bool,
}

/// An action run when the signature matches (at most once per connection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `event "msg"` (`name` None) → `signature_match`; `event name ["msg"]` →
    /// the custom event `name`.
    Event {
        /// The custom event's name.
        name: Option<String>,
        /// The message.
        msg: Option<String>,
    },
    /// `enable "analyzer"`: start that analyzer on the connection.
    Enable(String),
    /// `disable "analyzer"`: stop it.
    Disable(String),
    /// `file-mime "type", strength`.
    FileMime {
        /// The MIME type.
        mime: String,
        /// Its strength (higher wins).
        strength: i64,
    },
}

/// One `signature <id> { ... }` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The signature's id.
    pub id: String,
    /// File and line where it starts.
    pub location: String,
    /// Header conditions.
    pub hdr: Vec<HdrTest>,
    /// Content patterns.
    pub patterns: Vec<Pattern>,
    /// Other conditions.
    pub conds: Vec<Cond>,
    /// Dependencies on other signatures.
    pub requires: Vec<Requires>,
    /// Actions.
    pub actions: Vec<Action>,
    /// `active false` switches the signature off.
    pub active: bool,
}
