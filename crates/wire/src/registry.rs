//! IANA registries used by IKEv2 as open enums: a code point we do not know is
//! kept as `Unknown(n)` and shown by number, never rejected for being unknown
//! (DESIGN.md §2; RFC 7296 §3.10.1 for notifies).

use core::fmt;

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code point this implementation does not name.
            Unknown($repr),
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                match value {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> $repr {
                match value {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl $name {
            /// The registry name, or `None` for an unknown code point.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some(stringify!($variant)), )*
                    $name::Unknown(_) => None,
                }
            }

            /// The numeric code point.
            pub fn value(self) -> $repr {
                <$repr>::from(self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}", self.value()),
                }
            }
        }
    };
}

open_enum! {
    /// Exchange types, RFC 7296 §3.1.
    #[allow(non_camel_case_types)]
    ExchangeType: u8 {
        IKE_SA_INIT = 34,
        IKE_AUTH = 35,
        CREATE_CHILD_SA = 36,
        INFORMATIONAL = 37,
    }
}

open_enum! {
    /// Payload types, RFC 7296 §3.2. The names are the RFC's notation.
    PayloadType: u8 {
        None = 0,
        SA = 33,
        KE = 34,
        IDi = 35,
        IDr = 36,
        CERT = 37,
        CERTREQ = 38,
        AUTH = 39,
        Nonce = 40,
        N = 41,
        D = 42,
        V = 43,
        TSi = 44,
        TSr = 45,
        SK = 46,
        CP = 47,
        EAP = 48,
        SKF = 53,
    }
}

open_enum! {
    /// Notify message types, RFC 7296 §3.10.1, RFC 4555 §4, RFC 5685, and
    /// the capabilities strongSwan announces: RFC 4739 (multiple
    /// authentication), RFC 5998 (EAP-only), RFC 6023 (childless IKE SAs),
    /// RFC 6311 (message ID synchronisation).
    /// 0–16383 are errors, 16384–65535 status types.
    #[allow(non_camel_case_types)]
    NotifyType: u16 {
        UNSUPPORTED_CRITICAL_PAYLOAD = 1,
        INVALID_IKE_SPI = 4,
        INVALID_MAJOR_VERSION = 5,
        INVALID_SYNTAX = 7,
        INVALID_MESSAGE_ID = 9,
        INVALID_SPI = 11,
        NO_PROPOSAL_CHOSEN = 14,
        INVALID_KE_PAYLOAD = 17,
        AUTHENTICATION_FAILED = 24,
        SINGLE_PAIR_REQUIRED = 34,
        NO_ADDITIONAL_SAS = 35,
        INTERNAL_ADDRESS_FAILURE = 36,
        FAILED_CP_REQUIRED = 37,
        TS_UNACCEPTABLE = 38,
        INVALID_SELECTORS = 39,
        UNACCEPTABLE_ADDRESSES = 40,
        UNEXPECTED_NAT_DETECTED = 41,
        TEMPORARY_FAILURE = 43,
        CHILD_SA_NOT_FOUND = 44,
        INITIAL_CONTACT = 16384,
        SET_WINDOW_SIZE = 16385,
        ADDITIONAL_TS_POSSIBLE = 16386,
        IPCOMP_SUPPORTED = 16387,
        NAT_DETECTION_SOURCE_IP = 16388,
        NAT_DETECTION_DESTINATION_IP = 16389,
        COOKIE = 16390,
        USE_TRANSPORT_MODE = 16391,
        HTTP_CERT_LOOKUP_SUPPORTED = 16392,
        REKEY_SA = 16393,
        ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
        NON_FIRST_FRAGMENTS_ALSO = 16395,
        MOBIKE_SUPPORTED = 16396,
        ADDITIONAL_IP4_ADDRESS = 16397,
        ADDITIONAL_IP6_ADDRESS = 16398,
        NO_ADDITIONAL_ADDRESSES = 16399,
        UPDATE_SA_ADDRESSES = 16400,
        COOKIE2 = 16401,
        NO_NATS_ALLOWED = 16402,
        MULTIPLE_AUTH_SUPPORTED = 16404,
        ANOTHER_AUTH_FOLLOWS = 16405,
        REDIRECT_SUPPORTED = 16406,
        REDIRECT = 16407,
        REDIRECTED_FROM = 16408,
        EAP_ONLY_AUTHENTICATION = 16417,
        CHILDLESS_IKEV2_SUPPORTED = 16418,
        IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420,
        IKEV2_MESSAGE_ID_SYNC = 16422,
        IKEV2_FRAGMENTATION_SUPPORTED = 16430,
        SIGNATURE_HASH_ALGORITHMS = 16431,
    }
}

impl NotifyType {
    /// RFC 7296 §3.10.1: types below 16384 report errors.
    pub fn is_error(self) -> bool {
        self.value() < 16384
    }
}

open_enum! {
    /// Transform types, RFC 7296 §3.3.2.
    TransformType: u8 {
        ENCR = 1,
        PRF = 2,
        INTEG = 3,
        DH = 4,
        ESN = 5,
    }
}

open_enum! {
    /// Security protocol identifiers, RFC 7296 §3.3.1.
    ProtocolId: u8 {
        IKE = 1,
        AH = 2,
        ESP = 3,
    }
}

/// Transform IDs used by the playground's proposals (RFC 7296 §3.3.2, RFC 5282, RFC 8031).
pub mod transform_id {
    /// ENCR_AES_GCM_16: AES-GCM with a 16-octet ICV (RFC 5282).
    pub const ENCR_AES_GCM_16: u16 = 20;
    /// PRF_HMAC_SHA2_256 (RFC 4868).
    pub const PRF_HMAC_SHA2_256: u16 = 5;
    /// D-H group 31, Curve25519 (RFC 8031).
    pub const DH_CURVE25519: u16 = 31;
    /// No extended sequence numbers.
    pub const ESN_NONE: u16 = 0;
    /// Key Length transform attribute type (TV format), RFC 7296 §3.3.5.
    pub const ATTR_KEY_LENGTH: u16 = 14;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_code_points_round_trip() {
        assert_eq!(NotifyType::from(16400), NotifyType::UPDATE_SA_ADDRESSES);
        assert_eq!(NotifyType::UPDATE_SA_ADDRESSES.value(), 16400);
        assert_eq!(NotifyType::from(16401).to_string(), "COOKIE2");
        assert_eq!(NotifyType::from(40000), NotifyType::Unknown(40000));
        assert_eq!(NotifyType::from(40000).to_string(), "40000");
        assert_eq!(u16::from(NotifyType::Unknown(40000)), 40000);
        assert_eq!(PayloadType::from(46), PayloadType::SK);
        assert_eq!(ExchangeType::from(37).to_string(), "INFORMATIONAL");
    }

    #[test]
    fn error_and_status_ranges() {
        assert!(NotifyType::UNACCEPTABLE_ADDRESSES.is_error());
        assert!(NotifyType::UNEXPECTED_NAT_DETECTED.is_error());
        assert!(!NotifyType::COOKIE2.is_error());
        assert!(!NotifyType::Unknown(16384).is_error());
    }
}
