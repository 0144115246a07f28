//! Protocol settings as scenario files write them: the resolved settings of
//! one host ([`SettingsSpec`]) and the layers laid over a preset
//! ([`SettingsLayer`]: `[settings]` and `[host.settings]`).

use super::duration::Dur;
use mobike_protocol::{ListPolicy, MoveFallback, Retransmit, Settings};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The protocol settings one host runs with (resolved from the preset, the
/// global `[settings]` and its own `[host.settings]`), durations as text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsSpec {
    pub psk: String,
    pub mobike: bool,
    pub retransmit_initial: Dur,
    pub retransmit_factor: f64,
    pub retransmit_tries: u32,
    /// The responder's own requests (RFC 4555 §3.11 asks for minutes).
    pub responder_retransmit_initial: Dur,
    pub responder_retransmit_factor: f64,
    pub responder_retransmit_tries: u32,
    pub probe_after: u32,
    /// Once path testing starts, re-send every `probe_interval`, at most
    /// `probe_tries` times (strongSwan: 2.5 s, 10). Off: the normal schedule.
    pub probe_interval: Option<Dur>,
    pub probe_tries: u32,
    /// "off" is written by leaving it out and setting `liveness = false`.
    pub liveness: bool,
    pub liveness_interval: Dur,
    pub keepalive_interval: Dur,
    pub return_routability: bool,
    pub cookie2_len: usize,
    /// NAT detection in IKE_SA_INIT; without it NO_NATS_ALLOWED is used.
    pub nat_traversal: bool,
    /// Retransmit IKE_SA_INIT from each local address in turn.
    pub multi_source_init: bool,
    /// "strict" or "follow": the initiator's answer to a responder address
    /// list without the address in use.
    pub list_policy: ListPolicy,
    /// Addresses the responder refuses in UPDATE_SA_ADDRESSES.
    pub refuse_addresses: Vec<IpAddr>,
    /// Test every address pair this often while the current one works.
    pub path_test_interval: Option<Dur>,
    /// Inbound ESP on the IPsec SA's addresses counts as liveness.
    pub esp_liveness: bool,
    /// A NAT-change hint sends UPDATE_SA_ADDRESSES at once.
    pub update_on_nat_hint: bool,
    /// NAT detection in every liveness check, or only behind a NAT.
    pub liveness_natd_always: bool,
    /// Our receive window (N(SET_WINDOW_SIZE) above 1).
    pub window_size: u32,
    /// RFC 5685 Redirect support.
    pub redirect: bool,
    /// Responder: redirect new clients in IKE_SA_INIT / IKE_AUTH to here.
    pub redirect_on_init: Option<IpAddr>,
    pub redirect_on_auth: Option<IpAddr>,
    /// Responder: "add_old_back" or "keep_retransmitting" when its own move
    /// goes unanswered, after `move_fallback_after` retransmissions.
    pub move_fallback: MoveFallback,
    pub move_fallback_after: u32,
}

impl Default for SettingsSpec {
    fn default() -> Self {
        SettingsSpec::from_settings(&Settings::default())
    }
}

impl SettingsSpec {
    /// The spec of engine settings (a preset, or the defaults).
    pub fn from_settings(s: &Settings) -> SettingsSpec {
        SettingsSpec {
            psk: "mobike-playground".into(),
            mobike: s.mobike,
            retransmit_initial: Dur(s.retransmit.initial),
            retransmit_factor: s.retransmit.factor,
            retransmit_tries: s.retransmit.tries,
            responder_retransmit_initial: Dur(s.responder_retransmit.initial),
            responder_retransmit_factor: s.responder_retransmit.factor,
            responder_retransmit_tries: s.responder_retransmit.tries,
            probe_after: s.probe_after,
            probe_interval: s.probe.as_ref().map(|p| Dur(p.initial)),
            probe_tries: s.probe.as_ref().map_or(10, |p| p.tries),
            liveness: s.liveness_interval.is_some(),
            liveness_interval: Dur(s.liveness_interval.unwrap_or(10_000_000)),
            keepalive_interval: Dur(s.keepalive_interval),
            return_routability: s.return_routability,
            cookie2_len: s.cookie2_len,
            nat_traversal: s.nat_traversal,
            multi_source_init: s.multi_source_init,
            list_policy: s.list_policy,
            refuse_addresses: s.refuse_addresses.clone(),
            path_test_interval: s.path_test_interval.map(Dur),
            esp_liveness: s.esp_liveness,
            update_on_nat_hint: s.update_on_nat_hint,
            liveness_natd_always: s.liveness_natd_always,
            window_size: s.window_size,
            redirect: s.redirect,
            redirect_on_init: s.redirect_on_init,
            redirect_on_auth: s.redirect_on_auth,
            move_fallback: s.move_fallback,
            move_fallback_after: s.move_fallback_after,
        }
    }

    /// The engine settings these stand for.
    pub fn to_settings(&self) -> Settings {
        Settings {
            mobike: self.mobike,
            retransmit: Retransmit {
                initial: self.retransmit_initial.micros(),
                factor: self.retransmit_factor,
                tries: self.retransmit_tries,
            },
            responder_retransmit: Retransmit {
                initial: self.responder_retransmit_initial.micros(),
                factor: self.responder_retransmit_factor,
                tries: self.responder_retransmit_tries,
            },
            probe_after: self.probe_after,
            probe: self.probe_interval.map(|d| Retransmit {
                initial: d.micros(),
                factor: 1.0,
                tries: self.probe_tries,
            }),
            liveness_interval: self.liveness.then_some(self.liveness_interval.micros()),
            keepalive_interval: self.keepalive_interval.micros(),
            return_routability: self.return_routability,
            cookie2_len: self.cookie2_len,
            nat_traversal: self.nat_traversal,
            multi_source_init: self.multi_source_init,
            list_policy: self.list_policy,
            refuse_addresses: self.refuse_addresses.clone(),
            path_test_interval: self.path_test_interval.map(|d| d.micros()),
            esp_liveness: self.esp_liveness,
            update_on_nat_hint: self.update_on_nat_hint,
            liveness_natd_always: self.liveness_natd_always,
            window_size: self.window_size.max(1),
            redirect: self.redirect,
            redirect_on_init: self.redirect_on_init,
            redirect_on_auth: self.redirect_on_auth,
            move_fallback: self.move_fallback,
            move_fallback_after: self.move_fallback_after,
        }
    }
}

/// Declares [`SettingsLayer`]: a `preset` and one optional field per field
/// of [`SettingsSpec`], and the code that lays them over resolved settings.
/// The list must name every field (a destructuring below fails to compile
/// otherwise), so a new setting cannot be forgotten.
macro_rules! settings_layer {
    ($($field:ident: $ty:ty),* $(,)?) => {
        /// `[settings]` (every host) or `[host.settings]` (one host): a
        /// timer preset and any fields that differ from it.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct SettingsLayer {
            /// "rfc" (the defaults), "strongswan" or "libreswan"
            /// (mobike_protocol::Settings::preset).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub preset: Option<String>,
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl SettingsLayer {
            /// `base` with this layer's fields.
            pub fn over(&self, base: &SettingsSpec) -> SettingsSpec {
                let SettingsSpec { $($field: _),* } = base;
                let mut s = base.clone();
                $(
                    if let Some(v) = &self.$field {
                        s.$field = v.clone();
                    }
                )*
                s
            }
        }
    };
}

settings_layer!(
    psk: String,
    mobike: bool,
    retransmit_initial: Dur,
    retransmit_factor: f64,
    retransmit_tries: u32,
    responder_retransmit_initial: Dur,
    responder_retransmit_factor: f64,
    responder_retransmit_tries: u32,
    probe_after: u32,
    probe_interval: Option<Dur>,
    probe_tries: u32,
    liveness: bool,
    liveness_interval: Dur,
    keepalive_interval: Dur,
    return_routability: bool,
    cookie2_len: usize,
    nat_traversal: bool,
    multi_source_init: bool,
    list_policy: ListPolicy,
    refuse_addresses: Vec<IpAddr>,
    path_test_interval: Option<Dur>,
    esp_liveness: bool,
    update_on_nat_hint: bool,
    liveness_natd_always: bool,
    window_size: u32,
    redirect: bool,
    redirect_on_init: Option<IpAddr>,
    redirect_on_auth: Option<IpAddr>,
    move_fallback: MoveFallback,
    move_fallback_after: u32,
);

/// The HostSettingsSpec of earlier builds is the same layer.
pub type HostSettingsSpec = SettingsLayer;

impl SettingsLayer {
    /// The preset's engine settings, checked.
    pub(crate) fn base(name: Option<&str>) -> Result<SettingsSpec, String> {
        match name {
            None => Ok(SettingsSpec::default()),
            Some(n) => Settings::preset(n)
                .map(|s| SettingsSpec::from_settings(&s))
                .ok_or_else(|| {
                    format!(
                        "unknown settings preset {n:?}; use one of {}",
                        Settings::PRESETS.join(", ")
                    )
                }),
        }
    }
}
