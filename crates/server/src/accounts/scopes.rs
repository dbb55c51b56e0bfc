//! What an API token may do: `publish:*` (push and delete any of the
//! account's apps), `publish:APP` (only that one), `rooms` (list members,
//! stop rooms of its apps), `admin` (users, invites, transfers; admins only).

use lodge_manifest::AppName;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    PublishAll,
    Publish(AppName),
    Rooms,
    Admin,
}

impl Scope {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "publish:*" | "publish" => Ok(Scope::PublishAll),
            "rooms" => Ok(Scope::Rooms),
            "admin" => Ok(Scope::Admin),
            other => match other.strip_prefix("publish:") {
                Some(app) => AppName::new(app).map(Scope::Publish).map_err(|_| {
                    format!("\"{other}\" names no valid app: use publish:APP with an app name, or publish:*")
                }),
                None => Err(format!(
                    "\"{other}\" is not a scope: use publish:*, publish:APP, rooms or admin"
                )),
            },
        }
    }

    /// Every scope an account has: what a session or `lodge login` gets.
    pub fn all(admin: bool) -> Vec<Scope> {
        let mut all = vec![Scope::PublishAll, Scope::Rooms];
        if admin {
            all.push(Scope::Admin);
        }
        all
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::PublishAll => f.write_str("publish:*"),
            Scope::Publish(app) => write!(f, "publish:{app}"),
            Scope::Rooms => f.write_str("rooms"),
            Scope::Admin => f.write_str("admin"),
        }
    }
}

/// A set of scopes, as a token holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(pub Vec<Scope>);

impl Scopes {
    pub fn parse(texts: &[String]) -> Result<Self, String> {
        let mut scopes = texts
            .iter()
            .map(|t| Scope::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(Scopes(scopes))
    }

    pub fn may_publish(&self, app: &AppName) -> bool {
        self.0
            .iter()
            .any(|s| *s == Scope::PublishAll || *s == Scope::Publish(app.clone()))
    }

    pub fn has(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `other` is granted by these.
    pub fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| match s {
            Scope::Publish(app) => self.may_publish(app),
            s => self.has(s),
        })
    }

    pub fn strings(&self) -> Vec<String> {
        self.0.iter().map(Scope::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_name_what_is_wrong() {
        let scopes = Scopes::parse(&["publish:chat".into(), "rooms".into()]).unwrap();
        assert!(scopes.may_publish(&AppName::new("chat").unwrap()));
        assert!(!scopes.may_publish(&AppName::new("snake").unwrap()));
        assert_eq!(scopes.strings(), ["publish:chat", "rooms"]);
        assert!(Scope::parse("write").unwrap_err().contains("publish:*"));
        assert!(
            Scope::parse("publish:-x")
                .unwrap_err()
                .contains("valid app")
        );
        let all = Scopes(Scope::all(false));
        assert!(all.covers(&scopes));
        assert!(!scopes.covers(&all));
    }
}
