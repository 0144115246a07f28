//! IKEv2 cryptography through RustCrypto: PRF_HMAC_SHA2_256 and prf+
//! (RFC 7296 §2.13), SKEYSEED and the SK_* keys (§2.14), AES-GCM-16 for the SK
//! payload (RFC 5282), x25519 (D-H group 31, RFC 8031), PSK AUTH (§2.15) and
//! the SHA-1 NAT detection hashes (§2.23).

use crate::error::{Result, WireError};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce, Tag};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};

type HmacSha256 = Hmac<Sha256>;

/// Length of the PRF output and of SK_d / SK_pi / SK_pr (PRF_HMAC_SHA2_256).
pub const PRF_LEN: usize = 32;
/// RFC 5282: the salt at the end of each SK_e* key.
pub const GCM_SALT_LEN: usize = 4;
/// RFC 5282: the explicit IV carried in the SK payload.
pub const GCM_IV_LEN: usize = 8;
/// ENCR_AES_GCM_16: 16-octet ICV.
pub const GCM_ICV_LEN: usize = 16;

/// prf(K, S) = HMAC-SHA2-256 (RFC 4868 as the IKEv2 PRF).
pub fn prf(key: &[u8], data: &[u8]) -> [u8; PRF_LEN] {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut mac = match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// prf+(K, S) = T1 | T2 | ..., T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)
/// (RFC 7296 §2.13). Returns `len` octets; `len` must not exceed 255 blocks.
pub fn prf_plus(key: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    assert!(
        len <= 255 * PRF_LEN,
        "prf+ is defined for at most 255 blocks"
    );
    let mut out = Vec::with_capacity(len + PRF_LEN);
    let mut t: Vec<u8> = Vec::new();
    let mut n: u8 = 1;
    while out.len() < len {
        let mut input = t.clone();
        input.extend_from_slice(seed);
        input.push(n);
        t = prf(key, &input).to_vec();
        out.extend_from_slice(&t);
        n = n.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// An AES-GCM key of the SK payload: the AES key and the 4-octet salt that
/// forms the first part of the nonce (RFC 5282 §4 and §7.1). Make one with
/// [`GcmKey::new`] or [`GcmKey::from_keymat`]; the AES key schedule is
/// computed on first use and kept (in software AES, as in the page's wasm,
/// the schedule costs about as much as sealing a short message).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcmKey {
    key: Vec<u8>,
    pub salt: [u8; GCM_SALT_LEN],
    #[serde(skip)]
    cipher: CipherCache,
}

/// The expanded key of a [`GcmKey`], made on first use (most keys of a
/// large run, those of Child SAs that carry no traffic, never are) and
/// shared by the copies made after it (a checkpoint of the simulation
/// copies every SA). One pointer from the key to the schedule: with
/// thousands of SAs, each hop is a cache miss for every message. Equal
/// whatever it holds: a key is its octets and salt.
#[derive(Clone, Default)]
struct CipherCache(std::sync::OnceLock<Option<Cipher>>);

#[derive(Clone)]
enum Cipher {
    A128(std::sync::Arc<Aes128Gcm>),
    A256(std::sync::Arc<Aes256Gcm>),
}

impl PartialEq for CipherCache {
    fn eq(&self, _: &CipherCache) -> bool {
        true
    }
}
impl Eq for CipherCache {}

impl core::fmt::Debug for GcmKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "GcmKey({} bits)", self.key.len() * 8)
    }
}

impl GcmKey {
    /// A key from its AES key octets (16 or 32 for a usable key; any other
    /// length fails at use with `NoKeys`) and salt.
    pub fn new(key: Vec<u8>, salt: [u8; GCM_SALT_LEN]) -> GcmKey {
        GcmKey {
            key,
            salt,
            cipher: CipherCache::default(),
        }
    }

    /// The AES key octets.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    fn cipher(&self) -> Result<&Cipher> {
        self.cipher
            .0
            .get_or_init(|| match self.key.len() {
                16 => Aes128Gcm::new_from_slice(&self.key)
                    .ok()
                    .map(|c| Cipher::A128(c.into())),
                32 => Aes256Gcm::new_from_slice(&self.key)
                    .ok()
                    .map(|c| Cipher::A256(c.into())),
                _ => None,
            })
            .as_ref()
            .ok_or(WireError::NoKeys)
    }

    /// Splits an SK_e* value into key and salt: the salt is the last four octets.
    pub fn from_keymat(keymat: &[u8]) -> Result<GcmKey> {
        if keymat.len() != 16 + GCM_SALT_LEN && keymat.len() != 32 + GCM_SALT_LEN {
            return Err(WireError::BadLength {
                what: "AES-GCM key material",
                value: keymat.len(),
            });
        }
        let (key, salt) = keymat.split_at(keymat.len() - GCM_SALT_LEN);
        let mut s = [0u8; GCM_SALT_LEN];
        s.copy_from_slice(salt);
        Ok(GcmKey::new(key.to_vec(), s))
    }

    /// Key followed by salt, as Wireshark's IKEv2 decryption table wants it.
    pub fn keymat(&self) -> Vec<u8> {
        let mut v = self.key.clone();
        v.extend_from_slice(&self.salt);
        v
    }

    fn nonce(&self, iv: &[u8; GCM_IV_LEN]) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&self.salt);
        n[4..].copy_from_slice(iv);
        n
    }

    /// Encrypts `buf` in place and returns the 16-octet ICV.
    pub fn seal(
        &self,
        iv: &[u8; GCM_IV_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; GCM_ICV_LEN]> {
        let nonce = self.nonce(iv);
        let nonce = Nonce::from_slice(&nonce);
        let tag = match self.cipher()? {
            Cipher::A128(c) => c.encrypt_in_place_detached(nonce, aad, buf),
            Cipher::A256(c) => c.encrypt_in_place_detached(nonce, aad, buf),
        }
        .map_err(|_| WireError::Malformed("AES-GCM input too long"))?;
        Ok(tag.into())
    }

    /// Verifies the ICV and decrypts `buf` in place.
    pub fn open(
        &self,
        iv: &[u8; GCM_IV_LEN],
        aad: &[u8],
        buf: &mut [u8],
        icv: &[u8; GCM_ICV_LEN],
    ) -> Result<()> {
        let nonce = self.nonce(iv);
        let nonce = Nonce::from_slice(&nonce);
        let tag = Tag::from_slice(icv);
        match self.cipher()? {
            Cipher::A128(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
            Cipher::A256(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
        }
        .map_err(|_| WireError::IcvMismatch)
    }
}

/// The keys of one IKE SA (RFC 7296 §2.14) for an AEAD suite: SK_ai and SK_ar
/// are empty, SK_ei / SK_er are AES key + salt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IkeKeys {
    pub skeyseed: Vec<u8>,
    pub sk_d: Vec<u8>,
    pub sk_ei: GcmKey,
    pub sk_er: GcmKey,
    pub sk_pi: Vec<u8>,
    pub sk_pr: Vec<u8>,
}

impl IkeKeys {
    /// SKEYSEED = prf(Ni | Nr, g^ir);
    /// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
    /// `aes_key_len` is 16 or 32.
    pub fn derive(
        ni: &[u8],
        nr: &[u8],
        shared_secret: &[u8],
        spi_i: u64,
        spi_r: u64,
        aes_key_len: usize,
    ) -> Result<IkeKeys> {
        let mut nonces = ni.to_vec();
        nonces.extend_from_slice(nr);
        let skeyseed = prf(&nonces, shared_secret);
        Self::expand(&skeyseed, ni, nr, spi_i, spi_r, aes_key_len)
    }

    /// The keys of an IKE SA made by rekeying one (RFC 7296 §2.18):
    /// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), then the same
    /// prf+ as [`IkeKeys::derive`] with the new SA's nonces and SPIs (the
    /// rekey's initiator's SPI is SPIi).
    pub fn derive_rekey(
        sk_d_old: &[u8],
        ni: &[u8],
        nr: &[u8],
        shared_secret: &[u8],
        spi_i: u64,
        spi_r: u64,
        aes_key_len: usize,
    ) -> Result<IkeKeys> {
        let mut data = shared_secret.to_vec();
        data.extend_from_slice(ni);
        data.extend_from_slice(nr);
        let skeyseed = prf(sk_d_old, &data);
        Self::expand(&skeyseed, ni, nr, spi_i, spi_r, aes_key_len)
    }

    /// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
    /// prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), no SK_a with AES-GCM.
    fn expand(
        skeyseed: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: u64,
        spi_r: u64,
        aes_key_len: usize,
    ) -> Result<IkeKeys> {
        let mut seed = ni.to_vec();
        seed.extend_from_slice(nr);
        seed.extend_from_slice(&spi_i.to_be_bytes());
        seed.extend_from_slice(&spi_r.to_be_bytes());
        let e = aes_key_len + GCM_SALT_LEN;
        let total = PRF_LEN + 2 * e + 2 * PRF_LEN;
        let km = prf_plus(skeyseed, &seed, total);
        let mut at = 0;
        let mut take = |n: usize| {
            let v = km[at..at + n].to_vec();
            at += n;
            v
        };
        let sk_d = take(PRF_LEN);
        let sk_ei = GcmKey::from_keymat(&take(e))?;
        let sk_er = GcmKey::from_keymat(&take(e))?;
        let sk_pi = take(PRF_LEN);
        let sk_pr = take(PRF_LEN);
        Ok(IkeKeys {
            skeyseed: skeyseed.to_vec(),
            sk_d,
            sk_ei,
            sk_er,
            sk_pi,
            sk_pr,
        })
    }
}

/// An x25519 key pair for D-H group 31, made from 32 octets of the caller's
/// (seeded) randomness.
#[derive(Clone)]
pub struct X25519 {
    secret: x25519_dalek::StaticSecret,
}

impl X25519 {
    pub fn from_seed(bytes: [u8; 32]) -> Self {
        X25519 {
            secret: x25519_dalek::StaticSecret::from(bytes),
        }
    }
    /// The KE payload data: the 32-octet public value (RFC 8031 §3).
    pub fn public(&self) -> [u8; 32] {
        x25519_dalek::PublicKey::from(&self.secret).to_bytes()
    }
    /// g^ir. An all-zero result (a low-order peer value) is refused (RFC 8031 §2.3).
    pub fn shared_secret(&self, peer_public: &[u8]) -> Result<[u8; 32]> {
        let peer: [u8; 32] = peer_public.try_into().map_err(|_| WireError::BadLength {
            what: "x25519 key exchange data",
            value: peer_public.len(),
        })?;
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        if shared.as_bytes() == &[0u8; 32] {
            return Err(WireError::Malformed("x25519 public value of low order"));
        }
        Ok(*shared.as_bytes())
    }
}

/// NAT_DETECTION_*_IP data: SHA-1(SPIi | SPIr | IP address | port), with the
/// SPIs as they appear in the header (RFC 7296 §2.23).
pub fn nat_detection_hash(spi_i: u64, spi_r: u64, addr: SocketAddr) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(spi_i.to_be_bytes());
    h.update(spi_r.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(a) => h.update(a.octets()),
        IpAddr::V6(a) => h.update(a.octets()),
    }
    h.update(addr.port().to_be_bytes());
    h.finalize().into()
}

/// RFC 7296 §2.15: the key pad for shared-secret authentication.
pub const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// AUTH data for "Shared Key Message Integrity Code" (method 2):
/// `prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)` where
/// SignedOctets = RealMessage | NonceData of the peer | prf(SK_p, RestOfIDPayload).
pub fn psk_auth(
    psk: &[u8],
    real_message: &[u8],
    peer_nonce: &[u8],
    sk_p: &[u8],
    id_body: &[u8],
) -> [u8; 32] {
    let mut octets = real_message.to_vec();
    octets.extend_from_slice(peer_nonce);
    octets.extend_from_slice(&prf(sk_p, id_body));
    prf(&prf(psk, KEY_PAD), &octets)
}

/// AUTH method number for a pre-shared key (RFC 7296 §3.8).
pub const AUTH_SHARED_KEY_MIC: u8 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    /// A key is expanded on first use, and a copy made after that shares
    /// the expanded key (a checkpoint copies every SA's keys); a copy made
    /// before expands its own. All seal alike.
    #[test]
    fn a_key_is_expanded_once_and_shared_by_later_copies() {
        let key = GcmKey::new(vec![7; 16], [1, 2, 3, 4]);
        let early = key.clone();
        assert!(key.cipher.0.get().is_none());
        let seal = |k: &GcmKey| {
            let mut buf = *b"same octets";
            let icv = k.seal(&[9; 8], b"aad", &mut buf).unwrap();
            (buf, icv)
        };
        let sealed = seal(&key);
        let expanded = |k: &GcmKey| match k.cipher.0.get().cloned().flatten() {
            Some(Cipher::A128(c)) => Some(c),
            _ => None,
        };
        let late = key.clone();
        let (Some(a), Some(b)) = (expanded(&key), expanded(&late)) else {
            panic!("the key and its later copy hold the expanded key");
        };
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        assert!(early.cipher.0.get().is_none());
        assert_eq!(seal(&early), sealed);
        assert_eq!(seal(&late), sealed);
        let c = expanded(&early).expect("expanded by its first use");
        assert!(!std::sync::Arc::ptr_eq(&a, &c));
        // A key of no usable length fails at use, every time.
        let bad = GcmKey::new(vec![7; 5], [0; 4]);
        for _ in 0..2 {
            assert!(matches!(
                bad.seal(&[0; 8], b"", &mut []),
                Err(WireError::NoKeys)
            ));
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        // RFC 4231 test case 2.
        let out = prf(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            out.to_vec(),
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }

    #[test]
    fn prf_plus_chains_blocks() {
        let k = b"key";
        let s = b"seed";
        let out = prf_plus(k, s, 70);
        let t1 = prf(k, b"seed\x01");
        let mut in2 = t1.to_vec();
        in2.extend_from_slice(b"seed\x02");
        let t2 = prf(k, &in2);
        assert_eq!(&out[..32], &t1);
        assert_eq!(&out[32..64], &t2);
        assert_eq!(out.len(), 70);
    }

    #[test]
    fn nat_detection_hash_matches_strongswan_trace() {
        // shared/spec/strongswan-traces/mobike-basic/client-charon-keying.log:
        // natd_chunk 9732dff05cbef893 0000000000000000 c000020a 01f4
        let h = nat_detection_hash(0x9732dff05cbef893, 0, "192.0.2.10:500".parse().unwrap());
        assert_eq!(h.to_vec(), hex("16E1B757D7C4947C5D068E8C09843821802E6DF6"));
        let h = nat_detection_hash(0x9732dff05cbef893, 0, "203.0.113.10:500".parse().unwrap());
        assert_eq!(h.to_vec(), hex("FB33DD13191F4E6BCEFED8B3455C6379216B2300"));
    }

    #[test]
    fn gcm_seal_open_and_tamper() {
        let key = GcmKey::from_keymat(&[7u8; 20]).unwrap();
        assert_eq!(key.salt, [7; 4]);
        let iv = [1u8; 8];
        let mut buf = b"inner payloads".to_vec();
        let icv = key.seal(&iv, b"aad", &mut buf).unwrap();
        assert_ne!(&buf[..], b"inner payloads");
        let mut copy = buf.clone();
        key.open(&iv, b"aad", &mut copy, &icv).unwrap();
        assert_eq!(&copy[..], b"inner payloads");
        let mut copy = buf.clone();
        assert_eq!(
            key.open(&iv, b"AAD", &mut copy, &icv),
            Err(WireError::IcvMismatch)
        );
    }

    #[test]
    fn gcm_known_answer_aes128_test_case_4() {
        // McGrew & Viega GCM spec, test case 4 (AES-128, 96-bit IV, AAD).
        let key = GcmKey::new(
            hex("feffe9928665731c6d6a8f9467308308"),
            hex("cafebabe").try_into().unwrap(),
        );
        let iv: [u8; 8] = hex("facedbaddecaf888").try_into().unwrap();
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let mut pt = hex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let icv = key.seal(&iv, &aad, &mut pt).unwrap();
        assert_eq!(
            pt,
            hex(
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
            )
        );
        assert_eq!(icv.to_vec(), hex("5bc94fbc3221a5db94fae95ae7121a47"));
    }

    #[test]
    fn key_lengths_for_aes128_gcm_suite() {
        let k = IkeKeys::derive(&[1; 32], &[2; 32], &[3; 32], 1, 2, 16).unwrap();
        assert_eq!(k.sk_d.len(), 32);
        assert_eq!(k.sk_ei.keymat().len(), 20);
        assert_eq!(k.sk_er.keymat().len(), 20);
        assert_eq!(k.sk_pi.len(), 32);
        // The SK_* keys are consecutive slices of prf+ output (§2.14).
        let skeyseed = prf(&[[1u8; 32], [2u8; 32]].concat(), &[3; 32]);
        let mut seed = [[1u8; 32], [2u8; 32]].concat();
        seed.extend_from_slice(&1u64.to_be_bytes());
        seed.extend_from_slice(&2u64.to_be_bytes());
        let km = prf_plus(&skeyseed, &seed, 136);
        assert_eq!(k.sk_d, km[..32]);
        assert_eq!(k.sk_ei.keymat(), km[32..52]);
        assert_eq!(k.sk_pr, km[104..136]);
    }

    #[test]
    fn x25519_agreement() {
        let a = X25519::from_seed([1; 32]);
        let b = X25519::from_seed([2; 32]);
        assert_eq!(
            a.shared_secret(&b.public()).unwrap(),
            b.shared_secret(&a.public()).unwrap()
        );
        assert!(a.shared_secret(&[0; 32]).is_err());
        assert!(a.shared_secret(&[0; 31]).is_err());
    }

    /// The key schedule is kept after first use: a used key, its clone and
    /// a fresh copy seal alike and compare equal; a bad length fails each
    /// time.
    #[test]
    fn kept_key_schedule_changes_nothing() {
        let used = GcmKey::new(vec![7; 32], [1, 2, 3, 4]);
        let seal = |k: &GcmKey| {
            let mut buf = b"liveness".to_vec();
            let icv = k.seal(&[9; 8], b"hdr", &mut buf).unwrap();
            (buf, icv)
        };
        let first = seal(&used);
        let fresh = GcmKey::new(vec![7; 32], [1, 2, 3, 4]);
        assert_eq!(used, fresh);
        assert_eq!(seal(&used), first);
        assert_eq!(seal(&used.clone()), first);
        assert_eq!(seal(&fresh), first);
        let (mut ct, icv) = first;
        fresh.open(&[9; 8], b"hdr", &mut ct, &icv).unwrap();
        assert_eq!(ct, b"liveness");
        let bad = GcmKey::new(vec![7; 20], [0; 4]);
        for _ in 0..2 {
            let mut buf = vec![0; 4];
            assert!(matches!(
                bad.seal(&[0; 8], b"", &mut buf),
                Err(WireError::NoKeys)
            ));
        }
    }
}

#[cfg(test)]
mod rekey_tests {
    use super::*;

    /// RFC 7296 §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr),
    /// then {SK_d | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr
    /// | SPIi | SPIr), written out here with the primitives.
    #[test]
    fn a_rekeyed_ike_sa_is_keyed_from_the_old_sk_d_and_the_new_exchange() {
        let (sk_d, ni, nr, g) = ([1u8; 32], [2u8; 32], [3u8; 32], [4u8; 32]);
        let (spi_i, spi_r) = (0x1111_2222_3333_4444u64, 0x5555_6666_7777_8888u64);
        let k = IkeKeys::derive_rekey(&sk_d, &ni, &nr, &g, spi_i, spi_r, 16).unwrap();
        let skeyseed = prf(&sk_d, &[&g[..], &ni, &nr].concat());
        assert_eq!(k.skeyseed, skeyseed.to_vec());
        let seed = [&ni[..], &nr, &spi_i.to_be_bytes(), &spi_r.to_be_bytes()].concat();
        let km = prf_plus(&skeyseed, &seed, 32 + 2 * 20 + 2 * 32);
        assert_eq!(k.sk_d, km[..32]);
        assert_eq!(k.sk_ei.keymat(), km[32..52]);
        assert_eq!(k.sk_er.keymat(), km[52..72]);
        assert_eq!(k.sk_pi, km[72..104]);
        assert_eq!(k.sk_pr, km[104..136]);
        // Not the keys a first IKE SA with these nonces would get.
        let first = IkeKeys::derive(&ni, &nr, &g, spi_i, spi_r, 16).unwrap();
        assert_ne!(first.sk_d, k.sk_d);
    }
}
