//! The NAT behaviours of RFC 4787 (reference §7) as data: mapping (§4.1),
//! filtering (§5), the mapping timer (§4.3), port preservation (§4.2.1) and
//! hairpinning (§6), and the presets of the reference's §7.3 table. The NAT
//! boxes that act on them are [`crate::nat`].

use mobike_protocol::Time;
use serde::{Deserialize, Serialize};
use std::fmt;

/// RFC 4787 §4.1: what a mapping is keyed on besides the inside endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingBehaviour {
    /// One external endpoint per inside X:x, whatever the destination
    /// (REQ-1: a NAT MUST behave like this).
    #[serde(alias = "eim", alias = "endpoint-independent")]
    EndpointIndependent,
    /// A new mapping per destination address Y.
    #[serde(alias = "adm", alias = "address-dependent")]
    AddressDependent,
    /// A new mapping per destination address and port Y:y ("symmetric").
    #[serde(alias = "apdm", alias = "address-and-port-dependent")]
    AddressAndPortDependent,
}

/// RFC 4787 §5: which outside endpoints may send in through a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filtering {
    /// Anyone, while the mapping lives.
    #[serde(alias = "eif", alias = "endpoint-independent")]
    EndpointIndependent,
    /// Only addresses the inside has sent to (any port).
    #[serde(alias = "adf", alias = "address-dependent")]
    AddressDependent,
    /// Only address:port pairs the inside has sent to.
    #[serde(alias = "apdf", alias = "address-and-port-dependent")]
    AddressAndPortDependent,
}

impl MappingBehaviour {
    /// RFC 4787's abbreviation.
    pub fn short(self) -> &'static str {
        match self {
            MappingBehaviour::EndpointIndependent => "EIM",
            MappingBehaviour::AddressDependent => "ADM",
            MappingBehaviour::AddressAndPortDependent => "APDM",
        }
    }
}

impl Filtering {
    /// RFC 4787's abbreviation.
    pub fn short(self) -> &'static str {
        match self {
            Filtering::EndpointIndependent => "EIF",
            Filtering::AddressDependent => "ADF",
            Filtering::AddressAndPortDependent => "APDF",
        }
    }
}

/// The presets of the reference's §7.3 table. Names are written in
/// snake_case like every other value of the format; the reference's
/// hyphenated spellings are accepted too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NatPreset {
    /// EIM + EIF, 5 min ("full cone").
    #[serde(alias = "full-cone")]
    FullCone,
    /// EIM + ADF, 5 min ("restricted cone"; RFC 4555 §2.3's example).
    #[serde(alias = "restricted-cone")]
    RestrictedCone,
    /// EIM + APDF, 5 min ("port restricted cone").
    #[serde(alias = "port-restricted")]
    PortRestricted,
    /// APDM + APDF, 5 min: violates REQ-1; for failure demos.
    Symmetric,
    /// EIM + ADF with a 30 s timer: violates REQ-5; drives the reference's
    /// E7 and S-R3 (a mapping that dies between keepalives).
    #[serde(alias = "short-timer")]
    ShortTimer,
    /// A carrier-grade NAT (RFC 6888): EIM as RFC 4787 REQ-1 asks, APDF,
    /// the RFC 4787 minimum timer of 2 min, no port preservation (ports
    /// from the operator's pool), no hairpinning.
    #[serde(alias = "carrier-grade")]
    CarrierGrade,
}

/// RFC 4787 REQ-5: a UDP mapping timer MUST NOT expire in less than 2 min.
pub const RFC4787_MIN_TIMEOUT: Time = 120_000_000;
/// RFC 4787 REQ-5: the RECOMMENDED default, 5 min.
pub const DEFAULT_TIMEOUT: Time = 300_000_000;

/// Everything that decides how a NAT box treats a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatBehaviour {
    pub mapping: MappingBehaviour,
    pub filtering: Filtering,
    /// Idle time after which a mapping expires (RFC 4787 §4.3).
    pub timeout: Time,
    /// Inbound packets that pass the filter refresh the timer too (REQ-6a,
    /// MAY); outbound packets always do (REQ-6).
    pub inbound_refresh: bool,
    /// Try the inside port as the outside port first (§4.2.1); off: ports
    /// come one after another from `port_range`.
    pub port_preservation: bool,
    /// A packet from the inside to one of this NAT's outside endpoints is
    /// turned around (§6, REQ-9), with the sender's outside endpoint as the
    /// source (REQ-9a). Off: it is dropped.
    pub hairpinning: bool,
    /// Ports the allocator hands out when it does not preserve the port,
    /// first to last.
    pub port_range: (u16, u16),
}

impl Default for NatBehaviour {
    /// What a `[[nat]]` without a preset does (and what every NAT did before
    /// presets existed): EIM, ADF, 5 min, port preservation, hairpinning.
    fn default() -> Self {
        NatBehaviour {
            mapping: MappingBehaviour::EndpointIndependent,
            filtering: Filtering::AddressDependent,
            timeout: DEFAULT_TIMEOUT,
            inbound_refresh: false,
            port_preservation: true,
            hairpinning: true,
            port_range: (1024, u16::MAX),
        }
    }
}

impl NatPreset {
    /// The preset's behaviour (reference §7.3); fields the table does not
    /// name keep the defaults.
    pub fn behaviour(self) -> NatBehaviour {
        use Filtering as F;
        use MappingBehaviour as M;
        let (mapping, filtering, timeout) = match self {
            NatPreset::FullCone => (
                M::EndpointIndependent,
                F::EndpointIndependent,
                DEFAULT_TIMEOUT,
            ),
            NatPreset::RestrictedCone => {
                (M::EndpointIndependent, F::AddressDependent, DEFAULT_TIMEOUT)
            }
            NatPreset::PortRestricted => (
                M::EndpointIndependent,
                F::AddressAndPortDependent,
                DEFAULT_TIMEOUT,
            ),
            NatPreset::Symmetric => (
                M::AddressAndPortDependent,
                F::AddressAndPortDependent,
                DEFAULT_TIMEOUT,
            ),
            NatPreset::ShortTimer => (M::EndpointIndependent, F::AddressDependent, 30_000_000),
            NatPreset::CarrierGrade => {
                return NatBehaviour {
                    mapping: M::EndpointIndependent,
                    filtering: F::AddressAndPortDependent,
                    timeout: RFC4787_MIN_TIMEOUT,
                    port_preservation: false,
                    hairpinning: false,
                    ..NatBehaviour::default()
                };
            }
        };
        NatBehaviour {
            mapping,
            filtering,
            timeout,
            ..NatBehaviour::default()
        }
    }
}

impl fmt::Display for NatBehaviour {
    /// "EIM, ADF, 5min" and the exceptions to the defaults.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}, {}",
            self.mapping.short(),
            self.filtering.short(),
            super::duration::Dur(self.timeout)
        )?;
        if self.inbound_refresh {
            f.write_str(", inbound refresh")?;
        }
        if !self.port_preservation {
            f.write_str(", no port preservation")?;
        }
        if !self.hairpinning {
            f.write_str(", no hairpinning")?;
        }
        Ok(())
    }
}

/// A preset's name as files write it ("full_cone", "carrier_grade").
pub fn preset_name(p: NatPreset) -> &'static str {
    match p {
        NatPreset::FullCone => "full_cone",
        NatPreset::RestrictedCone => "restricted_cone",
        NatPreset::PortRestricted => "port_restricted",
        NatPreset::Symmetric => "symmetric",
        NatPreset::ShortTimer => "short_timer",
        NatPreset::CarrierGrade => "carrier_grade",
    }
}

/// Changes to a NAT's behaviour as a `[[nat]]` entry or a `configure_nat`
/// event writes them: a preset (a row of the reference's §7.3 table) and
/// any single properties over it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<NatPreset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingBehaviour>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtering: Option<Filtering>,
    /// Idle time after which a mapping expires (RFC 4787 REQ-5: at least
    /// 2 min, 5 min RECOMMENDED; shorter is allowed here, for demos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_timeout: Option<super::duration::Dur>,
    /// Inbound packets refresh the mapping timer too (REQ-6a).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_refresh: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_preservation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hairpinning: Option<bool>,
    /// `[first, last]`: where ports come from without port preservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range: Option<[u16; 2]>,
}

impl NatChanges {
    /// `base` (or the preset, when one is named) with these properties.
    pub fn over(&self, base: NatBehaviour) -> NatBehaviour {
        let mut b = self.preset.map_or(base, NatPreset::behaviour);
        if let Some(m) = self.mapping {
            b.mapping = m;
        }
        if let Some(f) = self.filtering {
            b.filtering = f;
        }
        if let Some(t) = self.mapping_timeout {
            b.timeout = t.micros();
        }
        if let Some(v) = self.inbound_refresh {
            b.inbound_refresh = v;
        }
        if let Some(v) = self.port_preservation {
            b.port_preservation = v;
        }
        if let Some(v) = self.hairpinning {
            b.hairpinning = v;
        }
        if let Some([lo, hi]) = self.port_range {
            b.port_range = (lo, hi);
        }
        b
    }

    /// Nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == NatChanges::default()
    }

    /// `[first, last]` must be a range of ports: 0 < first <= last.
    pub fn port_range_ok(&self) -> bool {
        self.port_range.is_none_or(|[lo, hi]| lo != 0 && lo <= hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_table_matches_reference_7_3() {
        use Filtering as F;
        use MappingBehaviour as M;
        for (p, m, f, t) in [
            (
                NatPreset::FullCone,
                M::EndpointIndependent,
                F::EndpointIndependent,
                300,
            ),
            (
                NatPreset::RestrictedCone,
                M::EndpointIndependent,
                F::AddressDependent,
                300,
            ),
            (
                NatPreset::PortRestricted,
                M::EndpointIndependent,
                F::AddressAndPortDependent,
                300,
            ),
            (
                NatPreset::Symmetric,
                M::AddressAndPortDependent,
                F::AddressAndPortDependent,
                300,
            ),
            (
                NatPreset::ShortTimer,
                M::EndpointIndependent,
                F::AddressDependent,
                30,
            ),
        ] {
            let b = p.behaviour();
            assert_eq!(
                (b.mapping, b.filtering, b.timeout),
                (m, f, t * 1_000_000),
                "{p:?}"
            );
        }
    }

    #[test]
    fn display_names_the_behaviour() {
        let b = NatPreset::Symmetric.behaviour();
        assert_eq!(b.to_string(), "APDM, APDF, 5min");
        let b = NatBehaviour {
            port_preservation: false,
            inbound_refresh: true,
            ..NatPreset::ShortTimer.behaviour()
        };
        assert_eq!(
            b.to_string(),
            "EIM, ADF, 30s, inbound refresh, no port preservation"
        );
    }
}
