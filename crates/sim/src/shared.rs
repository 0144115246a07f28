//! Shared, immutable values that the trace holds many times over: the name
//! of a host, link or NAT, the bytes of a datagram, and UDP endpoints. A
//! long run records millions of events, almost all naming a host and a link
//! and many carrying a datagram; each event holds a reference-counted
//! handle to one copy instead of an allocation of its own, and an address
//! in half the room of a `SocketAddr`. All serialise as the `String`,
//! `Vec<u8>` and `SocketAddr` they replace, so the JSON document and the
//! trace hashes are unchanged.

use serde::{Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::ops::Deref;
use std::sync::Arc;

/// The id of a host, link or NAT (or a label such as "internet"); cloning
/// it copies a pointer. One pointer wide (the string's length lives with
/// it on the heap): trace entries are sized by their largest kind, and a
/// sent datagram names two of these.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<String>);

impl Name {
    /// The name as a string slice.
    /// Which copy this is: equal for clones of one name (the trace's
    /// table of names is keyed by it).
    pub(crate) fn identity(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::new(s.to_string()))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(Arc::new(s))
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name(Arc::new(s.clone()))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        Arc::unwrap_or_clone(n.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, o: &str) -> bool {
        self.0.as_str() == o
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, o: &&str) -> bool {
        self.0.as_str() == *o
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, o: &String) -> bool {
        self.0.as_str() == o.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, o: &Name) -> bool {
        self == o.0.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, o: &Name) -> bool {
        *self == o.0.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, o: &Name) -> bool {
        self.as_str() == o.0.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0.as_str(), f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A datagram's bytes as sent: one copy shared by the packet in flight, its
/// duplicates and the trace.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(Arc<[u8]>);

impl Bytes {
    /// The bytes as a slice.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes(Arc::from(v))
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Bytes {
        Bytes(Arc::from(v))
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Bytes {
    /// As a sequence of numbers, as `Vec<u8>` serialises.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

/// A UDP endpoint (address and port) as the trace records it: 16 bytes
/// where a `SocketAddr` takes 32, IPv4 held inline and IPv6 boxed. It reads
/// like a `SocketAddr` (`ip()`, `port()`, the same `Display`, `Debug` and
/// serialised form) and converts to one with [`Addr::get`] or `into()`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    V4(SocketAddrV4),
    V6(Box<SocketAddrV6>),
}

impl Addr {
    /// The endpoint as a `SocketAddr`.
    pub fn get(&self) -> SocketAddr {
        match self {
            Addr::V4(a) => SocketAddr::V4(*a),
            Addr::V6(a) => SocketAddr::V6(**a),
        }
    }

    pub fn ip(&self) -> IpAddr {
        match self {
            Addr::V4(a) => IpAddr::V4(*a.ip()),
            Addr::V6(a) => IpAddr::V6(*a.ip()),
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            Addr::V4(a) => a.port(),
            Addr::V6(a) => a.port(),
        }
    }
}

impl From<SocketAddr> for Addr {
    fn from(a: SocketAddr) -> Addr {
        match a {
            SocketAddr::V4(a) => Addr::V4(a),
            SocketAddr::V6(a) => Addr::V6(Box::new(a)),
        }
    }
}

impl From<&Addr> for SocketAddr {
    fn from(a: &Addr) -> SocketAddr {
        a.get()
    }
}

impl From<Addr> for SocketAddr {
    fn from(a: Addr) -> SocketAddr {
        a.get()
    }
}

impl PartialEq<SocketAddr> for Addr {
    fn eq(&self, o: &SocketAddr) -> bool {
        match (self, o) {
            (Addr::V4(a), SocketAddr::V4(b)) => a == b,
            (Addr::V6(a), SocketAddr::V6(b)) => **a == *b,
            _ => false,
        }
    }
}

impl PartialEq<Addr> for SocketAddr {
    fn eq(&self, o: &Addr) -> bool {
        o == self
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

impl Serialize for Addr {
    /// As the `SocketAddr` it stands for.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_and_serialise_as_strings() {
        let n = Name::from("client-7");
        assert_eq!(n, "client-7");
        assert_eq!("client-7", n);
        assert_ne!(n, "client-8");
        assert_eq!(format!("{n} {n:?}"), "client-7 \"client-7\"");
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, serde_json::to_string("client-7").unwrap());
        let (a, b) = (Name::from("a"), Name::from("b"));
        assert!(a < b, "names order as their strings");
    }

    #[test]
    fn bytes_serialise_as_a_vec_does() {
        let v = vec![0u8, 1, 255];
        let b = Bytes::from(v.clone());
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
        assert_eq!(b.as_slice(), &v[..]);
        assert_eq!(format!("{b:?}"), format!("{v:?}"));
    }

    #[test]
    fn addrs_read_and_serialise_as_socket_addrs_do() {
        for text in ["192.0.2.7:4500", "[2001:db8::1]:500"] {
            let s: SocketAddr = text.parse().unwrap();
            let a = Addr::from(s);
            assert_eq!(a.get(), s);
            assert_eq!(a, s);
            assert_eq!(s, a);
            assert_eq!((a.ip(), a.port()), (s.ip(), s.port()));
            assert_eq!(format!("{a} {a:?}"), format!("{s} {s:?}"));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
        let v4 = Addr::from("192.0.2.7:4500".parse::<SocketAddr>().unwrap());
        assert_ne!(v4, "192.0.2.7:500".parse::<SocketAddr>().unwrap());
        assert_eq!(std::mem::size_of::<Addr>(), 16, "half a SocketAddr");
        assert_eq!(std::mem::size_of::<Name>(), 8, "one pointer");
    }
}
