//! Which version answers a request: the pinned one, or the latest, with the
//! part of the role the request needs. The API, the room gateway and the
//! http router all ask [`Apps::resolve`].

use super::Apps;
use super::error::ResolveError;
use lodge_manifest::{AppName, Role};
use lodge_store::VersionRecord;
use std::sync::Arc;

/// The pin that means "whatever is latest" where a version is named in a path.
pub const LATEST: &str = "latest";

impl Apps {
    /// The version of `app` that answers: `pin` (a semantic version, or
    /// `latest`), else the latest; with a part of `role` when one is asked for.
    pub async fn resolve(
        &self,
        app: &AppName,
        pin: Option<&str>,
        role: Option<Role>,
    ) -> Result<Arc<VersionRecord>, ResolveError> {
        let record = match pin.filter(|v| *v != LATEST) {
            Some(given) => {
                let version = semver::Version::parse(given).map_err(|reason| {
                    ResolveError::InvalidVersion {
                        app: app.clone(),
                        given: given.to_owned(),
                        reason,
                    }
                })?;
                self.registry
                    .version(app, &version)
                    .await?
                    .map(Arc::new)
                    .ok_or_else(|| ResolveError::NoVersion {
                        app: app.clone(),
                        version: given.to_owned(),
                    })?
            }
            None => self
                .latest(app)
                .await?
                .ok_or_else(|| ResolveError::NoApp(app.clone()))?,
        };
        if let Some(role) = role
            && record.part(role).is_none()
        {
            return Err(ResolveError::NoPart {
                app: app.clone(),
                version: record.manifest.app.version.clone(),
                role,
            });
        }
        Ok(record)
    }

    /// The app's latest version, cached until the next publish or delete
    /// (http requests must not query the registry each time). Only apps
    /// that exist are cached, so unknown names can't grow the cache.
    async fn latest(
        &self,
        app: &AppName,
    ) -> Result<Option<Arc<VersionRecord>>, lodge_store::StoreError> {
        if let Some(latest) = self.latest.lock().expect("latest lock").get(app) {
            return Ok(Some(latest.clone()));
        }
        let latest = self
            .registry
            .versions(app)
            .await?
            .into_iter()
            .next()
            .map(Arc::new);
        if let Some(latest) = &latest {
            self.latest
                .lock()
                .expect("latest lock")
                .insert(app.clone(), latest.clone());
        }
        Ok(latest)
    }

    pub(crate) fn forget_latest(&self) {
        self.latest.lock().expect("latest lock").clear();
    }
}
