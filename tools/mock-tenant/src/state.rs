//! The tenant's persistent state: its id and its keys, in one JSON file so that the server and
//! the `mint` command (separate processes) sign with the same keys.

use crate::keys::SigningKey;
use crate::mint::{apply, standard_claims, standard_header, MintRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const DEFAULT_TENANT_ID: &str = "6e2c7f5a-3b1d-4c8e-9f0a-1b2c3d4e5f60";
pub const DEFAULT_AUDIENCE: &str = "api://entra-gate-dev";
/// Keys a fresh tenant gets: two published (as Entra publishes several) and one never
/// published, for unknown-kid tests.
pub const FRESH_KEYS: [(&str, bool); 3] = [
    ("mock-key-1", true),
    ("mock-key-2", true),
    ("mock-key-unpublished", false),
];

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    published: bool,
    pem: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    tenant_id: String,
    keys: Vec<StoredKey>,
}

pub struct TenantKey {
    pub key: SigningKey,
    pub published: bool,
}

pub struct TenantState {
    pub tenant_id: String,
    pub keys: Vec<TenantKey>,
    path: PathBuf,
}

impl TenantState {
    fn file(dir: &Path) -> PathBuf {
        dir.join("tenant.json")
    }

    /// Loads the state in `dir`, creating a tenant with fresh keys if there is none.
    pub fn load_or_create(dir: &Path, tenant_id: Option<&str>) -> Result<Self, String> {
        let path = Self::file(dir);
        if path.exists() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let stored: Stored =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let keys = stored
                .keys
                .iter()
                .map(|k| {
                    Ok(TenantKey {
                        key: SigningKey::from_pem(&k.kid, &k.pem)?,
                        published: k.published,
                    })
                })
                .collect::<Result<_, String>>()?;
            return Ok(TenantState {
                tenant_id: stored.tenant_id,
                keys,
                path,
            });
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let keys = FRESH_KEYS
            .iter()
            .map(|(kid, published)| {
                Ok(TenantKey {
                    key: SigningKey::generate(kid, 2048)?,
                    published: *published,
                })
            })
            .collect::<Result<_, String>>()?;
        let state = TenantState {
            tenant_id: tenant_id.unwrap_or(DEFAULT_TENANT_ID).to_owned(),
            keys,
            path,
        };
        state.save()?;
        Ok(state)
    }

    pub fn save(&self) -> Result<(), String> {
        let stored = Stored {
            tenant_id: self.tenant_id.clone(),
            keys: self
                .keys
                .iter()
                .map(|k| {
                    Ok(StoredKey {
                        kid: k.key.kid.clone(),
                        published: k.published,
                        pem: k.key.to_pem()?,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        let text = serde_json::to_string_pretty(&stored).map_err(|e| e.to_string())?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &self.path).map_err(|e| e.to_string())
    }

    pub fn key(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.key.kid == kid).map(|k| &k.key)
    }

    pub fn published(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys.iter().filter(|k| k.published).map(|k| &k.key)
    }

    /// Mints a token as this tenant would issue it from `authority` at time `now`.
    pub fn mint(&self, request: &MintRequest, authority: &str, now: i64) -> Result<String, String> {
        let signer = match &request.key {
            Some(kid) => self.key(kid).ok_or_else(|| format!("no key {kid:?}"))?,
            None => self.published().next().ok_or("no published key")?,
        };
        let tid = request.tid.as_deref().unwrap_or(&self.tenant_id);
        let aud = request.aud.as_deref().unwrap_or(DEFAULT_AUDIENCE);
        let v2_issuer = format!("{}/{tid}/v2.0", authority.trim_end_matches('/'));
        let mut claims = standard_claims(
            request.ver,
            request.kind,
            tid,
            &v2_issuer,
            aud,
            now,
            request.lifetime.unwrap_or(3600),
        );
        apply(&mut claims, &request.claims);
        let mut header = standard_header(request.ver, signer);
        apply(&mut header, &request.header);
        let header_json = match &request.raw_header {
            Some(raw) => raw.clone(),
            None => serde_json::to_string(&Value::Object(header)).map_err(|e| e.to_string())?,
        };
        let claims_json = match &request.raw_claims {
            Some(raw) => raw.clone(),
            None => serde_json::to_string(&Value::Object(claims)).map_err(|e| e.to_string())?,
        };
        Ok(crate::compact(&header_json, &claims_json, signer))
    }
}
