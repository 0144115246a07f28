//! IKEv2 on the wire, for the MOBIKE playground.
//!
//! Two levels, as in smoltcp: checked views over bytes ([`header::HeaderPacket`],
//! [`payload::walk_chain`]) and parsed forms ([`header::Header`], [`payload::Payload`],
//! [`message::Message`]) that are parsed from and emitted into bytes. Registries
//! are open enums ([`registry`]). Crypto is real and comes from RustCrypto
//! ([`crypto`]). Parsing untrusted bytes never panics.
#![forbid(unsafe_code)]

pub mod crypto;
pub mod error;
pub mod esp;
pub mod header;
pub mod ip;
pub mod message;
pub mod notify;
pub mod payload;
pub mod registry;
pub mod spans;
pub mod udp;

pub use error::{Result, WireError};
pub use header::{Flags, Header};
pub use message::{Message, Notation, decrypt};
pub use notify::{GwIdentity, NotifyData};
pub use payload::{Notify, Payload};
pub use registry::{ExchangeType, NotifyType, PayloadType};
pub use spans::{FieldSpan, message_spans};
