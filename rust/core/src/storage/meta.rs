//! `meta.json`: the queues of a data directory and the secret message ids derive from. Small and
//! rarely changed, so it is rewritten whole and atomically on each change.

use super::OpenError;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const FILE: &str = "meta.json";
const VERSION: u64 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueueMeta {
    pub id: u64,
    pub name: String,
    pub created_s: u64,
    pub modified_s: u64,
    pub last_purge_ms: u64,
    pub attributes: Vec<(String, String)>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub ids_key: (u64, u64),
    pub next_queue_id: u64,
    pub queues: Vec<QueueMeta>,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

impl Meta {
    /// The directory's metadata, `None` for a new directory.
    pub fn load(dir: &Path) -> Result<Option<Self>, OpenError> {
        let p = path(dir);
        let text = match fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(OpenError::io(&p, e)),
        };
        let bad = |reason: &str| OpenError::Meta {
            path: p.clone(),
            reason: reason.to_string(),
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        if v["version"].as_u64() != Some(VERSION) {
            return Err(bad(&format!("unknown version {}", v["version"])));
        }
        let hex = |v: &Value| {
            v.as_str()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
                .ok_or_else(|| bad("bad ids_key"))
        };
        let ids_key = (hex(&v["ids_key"][0])?, hex(&v["ids_key"][1])?);
        let next_queue_id = v["next_queue_id"]
            .as_u64()
            .ok_or_else(|| bad("bad next_queue_id"))?;
        let mut queues = Vec::new();
        for q in v["queues"].as_array().ok_or_else(|| bad("bad queues"))? {
            let strings = |v: &Value| -> Result<Vec<(String, String)>, OpenError> {
                v.as_object()
                    .ok_or_else(|| bad("bad queue entry"))?
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|s| (k.clone(), s.to_string()))
                            .ok_or_else(|| bad("bad queue entry"))
                    })
                    .collect()
            };
            queues.push(QueueMeta {
                id: q["id"].as_u64().ok_or_else(|| bad("bad queue id"))?,
                name: q["name"]
                    .as_str()
                    .ok_or_else(|| bad("bad queue name"))?
                    .to_string(),
                created_s: q["created_s"].as_u64().unwrap_or(0),
                modified_s: q["modified_s"].as_u64().unwrap_or(0),
                last_purge_ms: q["last_purge_ms"].as_u64().unwrap_or(0),
                attributes: strings(&q["attributes"])?,
                tags: strings(&q["tags"])?.into_iter().collect(),
            });
        }
        Ok(Some(Self {
            ids_key,
            next_queue_id,
            queues,
        }))
    }

    /// Writes the metadata: to a temporary file, synced, renamed over the old one, the directory
    /// synced.
    pub fn store(&self, dir: &Path) -> io::Result<()> {
        let queues: Vec<Value> = self
            .queues
            .iter()
            .map(|q| {
                json!({
                    "id": q.id,
                    "name": q.name,
                    "created_s": q.created_s,
                    "modified_s": q.modified_s,
                    "last_purge_ms": q.last_purge_ms,
                    "attributes": q.attributes.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<Map<_, _>>(),
                    "tags": q.tags.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<Map<_, _>>(),
                })
            })
            .collect();
        let doc = json!({
            "version": VERSION,
            "ids_key": [format!("{:016x}", self.ids_key.0), format!("{:016x}", self.ids_key.1)],
            "next_queue_id": self.next_queue_id,
            "queues": queues,
        });
        let tmp = dir.join(format!("{FILE}.tmp"));
        let mut f = File::create(&tmp)?;
        f.write_all(serde_json::to_string_pretty(&doc)?.as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path(dir))?;
        sync_dir(dir)
    }
}

/// Makes a directory's entries (new, renamed, removed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir().join(format!("sqsfast-meta-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(Meta::load(&dir).unwrap(), None);
        let m = Meta {
            ids_key: (1, u64::MAX),
            next_queue_id: 3,
            queues: vec![QueueMeta {
                id: 2,
                name: "q".into(),
                created_s: 10,
                modified_s: 11,
                last_purge_ms: 0,
                attributes: vec![("VisibilityTimeout".into(), "5".into())],
                tags: [("team".to_string(), "a".to_string())].into(),
            }],
        };
        m.store(&dir).unwrap();
        assert_eq!(Meta::load(&dir).unwrap(), Some(m));
        fs::write(path(&dir), "{").unwrap();
        assert!(matches!(Meta::load(&dir), Err(OpenError::Meta { .. })));
        fs::remove_dir_all(&dir).unwrap();
    }
}
