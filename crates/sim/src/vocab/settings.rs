//! Protocol settings as scenario files write them. `[settings]` (every
//! host) and `[host.settings]` (one host) are tables of the protocol's own
//! [`Settings`] fields, plus `preset` and the pre-shared key `psk`. A host's
//! settings are its preset's (or the global preset's, or the defaults)
//! with the global table and then its own laid over them, and the merged
//! table deserialised as [`Settings`]: the protocol's type is the format, so
//! a new setting is added there alone.

use super::shape::{Shape, fields_of};
use mobike_protocol::Settings;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The pre-shared key when a file names none.
pub const DEFAULT_PSK: &str = "mobike-playground";

/// One `[settings]` or `[host.settings]` table, as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SettingsLayer(pub toml::Table);

/// The HostSettingsSpec of earlier builds is the same layer.
pub type HostSettingsSpec = SettingsLayer;

/// What one host runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct HostSettings {
    pub psk: String,
    pub engine: Settings,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            psk: DEFAULT_PSK.into(),
            engine: Settings::default(),
        }
    }
}

/// A settings table that does not make [`Settings`], and which key of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    /// The offending key, when the error has one (to point at its line).
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl SettingsLayer {
    /// A layer of these `key = value` pairs.
    pub fn from_table(table: toml::Table) -> SettingsLayer {
        SettingsLayer(table)
    }

    /// The preset it names, if any.
    pub fn preset(&self) -> Option<&str> {
        self.0.get("preset").and_then(toml::Value::as_str)
    }

    fn psk(&self) -> Option<&str> {
        self.0.get("psk").and_then(toml::Value::as_str)
    }

    /// Sets one field (`--set key=value`, the page's settings editor).
    pub fn set(&mut self, key: &str, value: toml::Value) {
        self.0.insert(key.to_string(), value);
    }

    /// `preset` and `psk` must be strings naming something; every other
    /// key must be a field of [`Settings`] with a value of its type.
    fn check_own_keys(&self) -> Result<(), SettingsError> {
        for key in ["preset", "psk"] {
            if let Some(v) = self.0.get(key)
                && !v.is_str()
            {
                return Err(SettingsError {
                    key: Some(key.into()),
                    message: format!("`{key}` must be a string, not {}", v.type_str()),
                });
            }
        }
        if let Some(name) = self.preset()
            && Settings::preset(name).is_none()
        {
            return Err(SettingsError {
                key: Some("preset".into()),
                message: format!(
                    "unknown settings preset {name:?}; use one of {}",
                    Settings::PRESETS.join(", ")
                ),
            });
        }
        Ok(())
    }
}

/// `base` with `layer`'s engine fields laid over it.
fn lay(base: &mut toml::Table, layer: &SettingsLayer) {
    for (k, v) in &layer.0 {
        if k != "preset" && k != "psk" {
            base.insert(k.clone(), v.clone());
        }
    }
}

/// The settings of a host whose own layer is `own`, under the global
/// `[settings]` layer.
pub fn resolve(
    global: &SettingsLayer,
    own: Option<&SettingsLayer>,
) -> Result<HostSettings, SettingsError> {
    global.check_own_keys()?;
    if let Some(o) = own {
        o.check_own_keys()?;
    }
    let preset = own.and_then(SettingsLayer::preset).or(global.preset());
    let base = preset.and_then(Settings::preset).unwrap_or_default();
    let mut table = match toml::Value::try_from(&base) {
        Ok(toml::Value::Table(t)) => t,
        Ok(_) => toml::Table::new(),
        Err(e) => {
            return Err(SettingsError {
                key: None,
                message: e.to_string(),
            });
        }
    };
    lay(&mut table, global);
    if let Some(o) = own {
        lay(&mut table, o);
    }
    let engine: Settings = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| {
            // The Display names the key ("… in `key`"); on one line.
            let message = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            // `preset` and `psk` are settings of the file too.
            let message =
                message.replacen("expected one of ", "expected one of `preset`, `psk`, ", 1);
            SettingsError {
                key: offending_key(&message),
                message,
            }
        })?;
    let psk = own
        .and_then(SettingsLayer::psk)
        .or(global.psk())
        .unwrap_or(DEFAULT_PSK)
        .to_string();
    Ok(HostSettings { psk, engine })
}

/// The key serde names in its message: "unknown field `x`, …" or "… in `x`".
fn offending_key(message: &str) -> Option<String> {
    let key = if let Some(rest) = message.strip_prefix("unknown field `") {
        rest.split('`').next()
    } else {
        message
            .rsplit_once("in `")
            .and_then(|(_, k)| k.split('`').next())
    };
    key.map(str::to_string)
}

/// One setting a `[settings]` table may hold, for a form that lists them
/// all: its key, its shape, and whether it may be left unset (then it has
/// no value, as `probe_interval` by default).
#[derive(Clone, Debug, PartialEq)]
pub struct SettingField {
    pub key: &'static str,
    pub shape: Shape,
    /// Unset is a value of its own ("none"), not the default.
    pub optional: bool,
}

/// Every key of a settings table, in the order of the protocol's
/// [`Settings`] (with `preset` and `psk` first), read from its serde impl:
/// the type is the format, so this list is never written out again.
pub fn setting_fields() -> Vec<SettingField> {
    let mut out = vec![
        SettingField {
            key: "preset",
            shape: Shape::Choice(&Settings::PRESETS),
            optional: true,
        },
        SettingField {
            key: "psk",
            shape: Shape::Text,
            optional: false,
        },
    ];
    out.extend(
        fields_of::<Settings>()
            .into_iter()
            .map(|(key, shape)| match shape {
                Shape::Optional(inner) => SettingField {
                    key,
                    shape: *inner,
                    optional: true,
                },
                shape => SettingField {
                    key,
                    shape,
                    optional: false,
                },
            }),
    );
    out
}

/// The values a preset (`None`: no preset, the defaults) gives each
/// setting, as a table writes them; unset optional settings are absent.
/// `psk` is the default key whatever the preset.
pub fn preset_values(preset: Option<&str>) -> toml::Table {
    let base = preset.and_then(Settings::preset).unwrap_or_default();
    let mut table = match toml::Value::try_from(&base) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    table.insert("psk".into(), toml::Value::String(DEFAULT_PSK.into()));
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(text: &str) -> SettingsLayer {
        SettingsLayer(toml::from_str(text).unwrap())
    }

    #[test]
    fn layers_go_over_the_preset_and_name_their_bad_keys() {
        let g = layer("preset = \"strongswan\"\nretransmit_tries = 3\npsk = \"k\"");
        let h = layer("liveness = true\nliveness_interval = \"30s\"");
        let s = resolve(&g, Some(&h)).unwrap();
        assert_eq!(s.psk, "k");
        assert_eq!(s.engine.retransmit_tries, 3);
        assert_eq!(s.engine.retransmit_initial.micros(), 4_000_000);
        assert_eq!(s.engine.liveness_check_after(), Some(30_000_000));
        let e = resolve(&layer("liveliness = true"), None).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("liveliness"));
        let e = resolve(&layer("retransmit_tries = \"many\""), None).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("retransmit_tries"));
        let e = resolve(&layer("liveness_interval = \"10 parsecs\""), None).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("liveness_interval"), "{e}");
        let e = resolve(&layer("preset = \"openswan\""), None).unwrap_err();
        assert!(e.message.contains("unknown settings preset"), "{e}");
        assert_eq!(
            resolve(&SettingsLayer::default(), None),
            Ok(HostSettings::default())
        );
    }

    #[test]
    fn the_catalogue_lists_every_setting_and_each_resolves_with_its_preset_value() {
        let fields = setting_fields();
        let keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
        assert_eq!(&keys[..3], ["preset", "psk", "mobike"]);
        for optional in [
            "probe_interval",
            "path_test_interval",
            "redirect_on_init",
            "redirect_on_auth",
        ] {
            let f = fields.iter().find(|f| f.key == optional).unwrap();
            assert!(f.optional && f.shape == Shape::Text, "{f:?}");
        }
        // Each preset's table, written back as a layer, resolves to the preset.
        for preset in Settings::PRESETS {
            let values = preset_values(Some(preset));
            for (k, _) in &values {
                assert!(keys.contains(&k.as_str()), "{k} is in the catalogue");
            }
            let s = resolve(&SettingsLayer(values), None).unwrap();
            assert_eq!(Some(s.engine), Settings::preset(preset));
        }
        assert_eq!(
            preset_values(Some("strongswan")).get("probe_interval"),
            Some(&toml::Value::String("2500ms".into()))
        );
        assert_eq!(preset_values(None).get("probe_interval"), None);
    }
}
