use core::fmt;

/// Why bytes were not accepted as an IKEv2 message. Parsing untrusted input
/// returns one of these and never panics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer octets than the structure needs.
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// A length field disagrees with the data around it.
    BadLength { what: &'static str, value: usize },
    /// RFC 7296 §3.1: a major version other than 2.
    UnsupportedVersion(u8),
    /// RFC 7296 §2.5: a payload type we do not know with the critical bit set.
    UnsupportedCriticalPayload(u8),
    /// A field holds a value the structure cannot have.
    Malformed(&'static str),
    /// The SK payload's integrity check value did not verify.
    IcvMismatch,
    /// An SK payload could not be opened because no keys are known for it.
    NoKeys,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { what, need, have } => {
                write!(f, "{what} truncated: needs {need} octets, has {have}")
            }
            WireError::BadLength { what, value } => write!(f, "{what}: bad length {value}"),
            WireError::UnsupportedVersion(v) => {
                write!(f, "unsupported IKE major version {}", v >> 4)
            }
            WireError::UnsupportedCriticalPayload(t) => {
                write!(f, "unsupported critical payload type {t}")
            }
            WireError::Malformed(what) => write!(f, "malformed {what}"),
            WireError::IcvMismatch => f.write_str("SK payload integrity check failed (bad ICV)"),
            WireError::NoKeys => f.write_str("no keys for this IKE SA"),
        }
    }
}

impl std::error::Error for WireError {}

pub type Result<T> = core::result::Result<T, WireError>;

pub(crate) fn need(what: &'static str, bytes: &[u8], len: usize) -> Result<()> {
    if bytes.len() < len {
        Err(WireError::Truncated {
            what,
            need: len,
            have: bytes.len(),
        })
    } else {
        Ok(())
    }
}
