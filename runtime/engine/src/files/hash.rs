//! The hash file analyzers (Zeek's `Files::ANALYZER_MD5`, `_SHA1`,
//! `_SHA256`): each digests a file's bytes in stream order and, when the
//! file ends whole, gives `file_hash` its hex digest. A gap ends a hash
//! analyzer without a result, as Zeek's does.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A file analyzer handlers can attach to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAnalyzer {
    /// `MD5`.
    Md5,
    /// `SHA1`.
    Sha1,
    /// `SHA256`.
    Sha256,
}

impl FileAnalyzer {
    /// The analyzer of a Zeek name (`MD5`, `Files::ANALYZER_SHA1`, any case).
    pub fn from_name(name: &str) -> Option<FileAnalyzer> {
        let n = name.rsplit("ANALYZER_").next().unwrap_or(name);
        [FileAnalyzer::Md5, FileAnalyzer::Sha1, FileAnalyzer::Sha256].into_iter().find(|a| a.name().eq_ignore_ascii_case(n))
    }

    /// Its Zeek name, as files.log's `analyzers` column shows it.
    pub fn name(self) -> &'static str {
        match self {
            FileAnalyzer::Md5 => "MD5",
            FileAnalyzer::Sha1 => "SHA1",
            FileAnalyzer::Sha256 => "SHA256",
        }
    }

    /// The `kind` argument of `file_hash`.
    pub fn kind(self) -> &'static str {
        match self {
            FileAnalyzer::Md5 => "md5",
            FileAnalyzer::Sha1 => "sha1",
            FileAnalyzer::Sha256 => "sha256",
        }
    }
}

/// One running hash analyzer.
#[derive(Clone, Debug)]
pub(super) enum Hasher {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Hasher {
    pub(super) fn new(a: FileAnalyzer) -> Hasher {
        match a {
            FileAnalyzer::Md5 => Hasher::Md5(Md5::new()),
            FileAnalyzer::Sha1 => Hasher::Sha1(Sha1::new()),
            FileAnalyzer::Sha256 => Hasher::Sha256(Sha256::new()),
        }
    }

    pub(super) fn analyzer(&self) -> FileAnalyzer {
        match self {
            Hasher::Md5(_) => FileAnalyzer::Md5,
            Hasher::Sha1(_) => FileAnalyzer::Sha1,
            Hasher::Sha256(_) => FileAnalyzer::Sha256,
        }
    }

    pub(super) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The digest in lower-case hex.
    pub(super) fn finish(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_the_published_test_vector() {
        let hex = |a: FileAnalyzer| {
            let mut h = Hasher::new(a);
            h.update(b"a");
            h.update(b"bc");
            h.finish()
        };
        assert_eq!(hex(FileAnalyzer::Md5), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(hex(FileAnalyzer::Sha1), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex(FileAnalyzer::Sha256), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(FileAnalyzer::from_name("Files::ANALYZER_SHA1"), Some(FileAnalyzer::Sha1));
        assert_eq!(FileAnalyzer::from_name("md5"), Some(FileAnalyzer::Md5));
        assert_eq!(FileAnalyzer::from_name("PE"), None);
    }
}
