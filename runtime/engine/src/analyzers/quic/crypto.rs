//! Initial packet protection (RFC 9001 §5 for QUIC v1 and its drafts,
//! RFC 9369 §3 for v2): the keys come from the client's first Destination
//! Connection ID by HKDF-SHA256 with the version's salt and labels; the
//! header is protected with AES-128 (ECB, one block as mask), the payload
//! with AES-128-GCM. Only Initial packets can be read this way: every
//! later packet is protected with keys of the TLS handshake.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes_gcm::aead::{AeadInPlace, Nonce, Tag};
use aes_gcm::Aes128Gcm;
use hkdf::Hkdf;
use sha2::Sha256;

/// QUIC version 1 (RFC 9000).
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const VERSION_2: u32 = 0x6b33_43cf;

/// Version 1's Initial salt (RFC 9001 §5.2), also used by drafts 33 and 34.
const SALT_V1: [u8; 20] = hex20("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
/// Version 2's Initial salt (RFC 9369 §3.3.1).
const SALT_V2: [u8; 20] = hex20("0dede3def700a6db819381be6e269dcbf9bd2ed9");
/// Draft 22's salt (and Facebook's mvfst `0xfaceb001`).
const SALT_D22: [u8; 20] = hex20("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a");
/// Drafts 23 to 28 (and mvfst `0xfaceb002` to `0xfaceb013`).
const SALT_D23: [u8; 20] = hex20("c3eef712c72ebb5a11a7d2432bb46365bef9f502");
/// Drafts 29 to 32.
const SALT_D29: [u8; 20] = hex20("afbfec289993d24c9e9786f19c6111e04390a899");

const fn hex20(s: &str) -> [u8; 20] {
    let b = s.as_bytes();
    let mut out = [0u8; 20];
    let mut i = 0;
    while i < 20 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    }
}

/// Whether weir can remove the Initial protection of `version`: v1, v2,
/// IETF drafts 22 to 34 and mvfst's `0xfaceb001` to `0xfaceb013`.
pub fn supported(version: u32) -> bool {
    salt(version).is_some()
}

fn salt(version: u32) -> Option<&'static [u8; 20]> {
    match version {
        VERSION_1 | 0xff00_0021 | 0xff00_0022 => Some(&SALT_V1),
        VERSION_2 => Some(&SALT_V2),
        0xff00_0016 | 0xfaceb001 => Some(&SALT_D22),
        0xff00_0017..=0xff00_001c | 0xfaceb002..=0xfaceb013 => Some(&SALT_D23),
        0xff00_001d..=0xff00_0020 => Some(&SALT_D29),
        _ => None,
    }
}

/// TLS 1.3's HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
fn expand_label(prk: &Hkdf<Sha256>, label: &str, out: &mut [u8]) {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(out.len() as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    // Lengths here are at most 32 bytes, far below HKDF's limit.
    let _ = prk.expand(&info, out);
}

/// One side's Initial keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// AEAD key (AES-128-GCM).
    pub key: [u8; 16],
    /// AEAD IV, XORed with the packet number for each packet's nonce.
    pub iv: [u8; 12],
    /// Header protection key (AES-128).
    pub hp: [u8; 16],
}

impl Keys {
    /// The Initial keys of the client (`client`) or the server for
    /// `version` and the client's first Destination Connection ID `dcid`;
    /// None for a version without known Initial salt.
    pub fn initial(version: u32, dcid: &[u8], client: bool) -> Option<Keys> {
        let salt = salt(version)?;
        let initial = Hkdf::<Sha256>::new(Some(salt), dcid);
        let mut secret = [0u8; 32];
        expand_label(&initial, if client { "client in" } else { "server in" }, &mut secret);
        let side = Hkdf::<Sha256>::from_prk(&secret).ok()?;
        let v2 = version == VERSION_2;
        let mut k = Keys { key: [0; 16], iv: [0; 12], hp: [0; 16] };
        expand_label(&side, if v2 { "quicv2 key" } else { "quic key" }, &mut k.key);
        expand_label(&side, if v2 { "quicv2 iv" } else { "quic iv" }, &mut k.iv);
        expand_label(&side, if v2 { "quicv2 hp" } else { "quic hp" }, &mut k.hp);
        Some(k)
    }

    /// The header protection mask of a 16-byte ciphertext `sample`.
    pub fn mask(&self, sample: &[u8; 16]) -> [u8; 16] {
        let cipher = aes::Aes128::new(&self.hp.into());
        let mut block = (*sample).into();
        cipher.encrypt_block(&mut block);
        block.into()
    }
}

/// Why an Initial packet could not be read (the reasons become the
/// analyzer's violations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecryptError {
    /// The Length field is below the 4-byte packet number plus the 16-byte sample.
    PayloadTooSmall(u64),
    /// The Length field goes past the end of the datagram.
    PacketTooSmall(usize, u64),
    /// More than 10000 bytes claimed.
    PayloadTooLarge(u64),
    /// No Initial salt is known for the version.
    UnknownVersion(u32),
    /// The AEAD tag did not verify.
    Failed,
}

impl std::fmt::Display for DecryptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecryptError::PayloadTooSmall(n) => write!(f, "payload too small {n} < 20"),
            DecryptError::PacketTooSmall(have, want) => write!(f, "packet too small {have} {want}"),
            DecryptError::PayloadTooLarge(n) => write!(f, "payload_length too large {n}"),
            DecryptError::UnknownVersion(v) => write!(f, "unable to decrypt QUIC version 0x{v:x}"),
            DecryptError::Failed => write!(f, "decryption failed"),
        }
    }
}

/// The plaintext frames of the Initial packet at the start of `packet`,
/// whose protected packet number starts at `pn_offset` and whose Length
/// field (packet number and payload) is `length`, protected with the keys
/// of `version`, `dcid` and the sending side (`client`).
pub fn decrypt_initial(version: u32, dcid: &[u8], client: bool, packet: &[u8], pn_offset: usize, length: u64) -> Result<Vec<u8>, DecryptError> {
    if length < 20 {
        return Err(DecryptError::PayloadTooSmall(length));
    }
    let end = (pn_offset as u64).saturating_add(length);
    if (packet.len() as u64) < end {
        return Err(DecryptError::PacketTooSmall(packet.len(), end));
    }
    let keys = Keys::initial(version, dcid, client).ok_or(DecryptError::UnknownVersion(version))?;
    let mut sample = [0u8; 16];
    sample.copy_from_slice(&packet[pn_offset + 4..pn_offset + 20]);
    let mask = keys.mask(&sample);
    let mut first = packet[0];
    first ^= mask[0] & if first & 0x80 != 0 { 0x0f } else { 0x1f };
    let pn_len = usize::from(first & 0x03) + 1;
    if length < (pn_len + 16) as u64 {
        return Err(DecryptError::PayloadTooSmall(length));
    }
    if length > 10_000 {
        return Err(DecryptError::PayloadTooLarge(length));
    }
    let mut header = packet[..pn_offset + pn_len].to_vec();
    header[0] = first;
    let mut pn = 0u64;
    for i in 0..pn_len {
        header[pn_offset + i] ^= mask[1 + i];
        pn = (pn << 8) | u64::from(header[pn_offset + i]);
    }
    let mut nonce = keys.iv;
    for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
        *n ^= p;
    }
    let end = end as usize;
    let mut body = packet[pn_offset + pn_len..end - 16].to_vec();
    let tag = Tag::<Aes128Gcm>::clone_from_slice(&packet[end - 16..end]);
    let cipher = Aes128Gcm::new(&keys.key.into());
    cipher
        .decrypt_in_place_detached(Nonce::<Aes128Gcm>::from_slice(&nonce), &header, &mut body, &tag)
        .map_err(|_| DecryptError::Failed)?;
    Ok(body)
}
