//! Cases of the accounts: sign-up, sessions, tokens, invites,
//! collaborators and quotas.

use super::*;

// From `sqlite_accounts.rs`.
pub(crate) async fn usernames_are_unique_in_any_case_and_invites_work_once(s: &Stores) {
    let registry = &*s.one;
    user(registry, "alice").await;
    let again = s
        .two
        .create_account(new_account("ALICE"), None)
        .await
        .unwrap();
    assert_eq!(again, Err(CreateRefused::UsernameTaken));
    let admin = registry.ensure_admin("admin", None).await.unwrap();
    assert!(admin.is_admin() && !admin.has_password);
    registry
        .create_invite("code".into(), admin.id, now_ms() + 60_000)
        .await
        .unwrap();
    assert!(
        registry
            .create_account(new_account("bob"), Some("code".into()))
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        s.two
            .create_account(new_account("carol"), Some("code".into()))
            .await
            .unwrap(),
        Err(CreateRefused::InviteInvalid)
    );
    let invites = registry.invites().await.unwrap();
    assert_eq!(invites[0].used_by.as_deref(), Some("bob"));
    // The admin's password is set once, from the first start that gives one.
    let admin = registry
        .ensure_admin("admin", Some("h1".into()))
        .await
        .unwrap();
    assert!(admin.has_password);
    registry
        .ensure_admin("admin", Some("h2".into()))
        .await
        .unwrap();
    assert_eq!(
        registry.password_hash(admin.id).await.unwrap().as_deref(),
        Some("h1")
    );
}

// From `sqlite_accounts.rs`.
pub(crate) async fn only_collaborators_push_and_quotas_hold(s: &Stores) {
    let registry = &*s.one;
    let (alice, bob) = (user(registry, "alice").await, user(registry, "bob").await);
    let quotas = Quotas {
        apps: 1,
        versions_per_app: 2,
        stored_bytes: 100,
        kv_bytes: 0,
    };
    created(
        registry
            .publish(version("game", "1.0.0", 10, by(&alice, quotas)))
            .await
            .unwrap(),
    );
    let refused = registry
        .publish(version("game", "1.0.1", 10, by(&bob, quotas)))
        .await
        .unwrap();
    assert_eq!(
        refused,
        PublishOutcome::Refused(PublishRefusal::NotACollaborator {
            owners: vec!["alice".into()]
        })
    );
    let game = app("game");
    registry
        .set_app_member(&game, bob.id, AppRole::Maintainer)
        .await
        .unwrap()
        .unwrap();
    // Bob's push counts against Alice's quotas: the app is hers.
    let over = s
        .two
        .publish(version("game", "1.0.1", 91, by(&bob, quotas)))
        .await
        .unwrap();
    let PublishOutcome::Refused(PublishRefusal::OverQuota(refusal)) = over else {
        panic!("{over:?}")
    };
    assert_eq!(
        (
            refusal.quota,
            refusal.account.as_str(),
            refusal.limit,
            refusal.used,
            refusal.adding
        ),
        (QuotaKind::StoredBytes, "alice", 100, 10, 91)
    );
    created(
        registry
            .publish(version("game", "1.0.1", 10, by(&bob, quotas)))
            .await
            .unwrap(),
    );
    let third = registry
        .publish(version("game", "1.0.2", 1, by(&alice, quotas)))
        .await
        .unwrap();
    assert!(
        matches!(&third, PublishOutcome::Refused(PublishRefusal::OverQuota(r))
            if (r.quota, r.limit, r.used, r.adding) == (QuotaKind::VersionsPerApp, 2, 2, 1)),
        "{third:?}"
    );
    let second_app = registry
        .publish(version("other", "1.0.0", 1, by(&alice, quotas)))
        .await
        .unwrap();
    assert!(
        matches!(&second_app, PublishOutcome::Refused(PublishRefusal::OverQuota(r))
            if (r.quota, r.limit, r.used, r.adding) == (QuotaKind::Apps, 1, 1, 1)),
        "{second_app:?}"
    );
    assert_eq!(
        registry.usage(alice.id).await.unwrap(),
        AccountUsage {
            apps: 1,
            stored_bytes: 20
        }
    );
    // The last owner stays; deleting her account deletes the app.
    assert_eq!(
        registry.remove_app_member(&game, alice.id).await.unwrap(),
        Err(MemberRefused::LastOwner)
    );
    let gone = s.two.delete_account(alice.id).await.unwrap().unwrap();
    assert_eq!(gone, vec![game.clone()]);
    assert!(registry.versions(&game).await.unwrap().is_empty());
    assert!(registry.apps_of(bob.id).await.unwrap().is_empty());
}

// From `sqlite_accounts.rs`.
pub(crate) async fn apps_from_before_accounts_go_to_the_admin(s: &Stores) {
    let registry = &*s.one;
    created(
        registry
            .publish(version("old", "1.0.0", 1, None))
            .await
            .unwrap(),
    );
    let admin = registry.ensure_admin("root", None).await.unwrap();
    assert_eq!(s.two.adopt_unowned_apps(admin.id).await.unwrap(), 1);
    assert_eq!(registry.adopt_unowned_apps(admin.id).await.unwrap(), 0);
    let members = registry.app_members(&app("old")).await.unwrap();
    assert_eq!(members[0].username, "root");
    assert_eq!(members[0].role, AppRole::Owner);
}

fn session(account: &Account, secret: &str, expires_ms: i64) -> SessionRecord {
    SessionRecord {
        account: account.id,
        secret_hash: secret.into(),
        csrf: format!("csrf-{secret}"),
        created_ms: now_ms(),
        expires_ms,
    }
}

/// Sessions end by expiry, by a password change (all but the one kept), by
/// disabling; tokens list in order and record their use.
pub(crate) async fn sessions_and_tokens_work_alike(s: &Stores) {
    let (registry, other) = (&*s.one, &*s.two);
    let alice = user(registry, "alice").await;
    let later = now_ms() + 60_000;
    let s1 = session(&alice, "s1", later);
    registry.create_session(s1.clone()).await.unwrap();
    registry
        .create_session(session(&alice, "s2", later))
        .await
        .unwrap();
    registry
        .create_session(session(&alice, "old", now_ms() - 1))
        .await
        .unwrap();
    let (found, account) = other.session("s1").await.unwrap().unwrap();
    assert_eq!(found, s1);
    assert_eq!(account, alice);
    assert_eq!(other.session("old").await.unwrap(), None);
    assert_eq!(other.session("nope").await.unwrap(), None);

    other
        .set_password(alice.id, "h2".into(), Some("s1".into()))
        .await
        .unwrap();
    assert!(registry.session("s1").await.unwrap().is_some());
    assert_eq!(registry.session("s2").await.unwrap(), None);
    assert_eq!(
        registry.password_hash(alice.id).await.unwrap().as_deref(),
        Some("h2")
    );
    other
        .set_password(alice.id, "h3".into(), None)
        .await
        .unwrap();
    assert_eq!(registry.session("s1").await.unwrap(), None);

    for secret in ["s3", "s4"] {
        registry
            .create_session(session(&alice, secret, later))
            .await
            .unwrap();
    }
    other.delete_session("s3").await.unwrap();
    assert_eq!(registry.session("s3").await.unwrap(), None);
    assert_eq!(other.delete_sessions(alice.id).await.unwrap(), 1);
    assert_eq!(other.delete_sessions(alice.id).await.unwrap(), 0);

    // Disabling ends sessions, and a disabled account's new ones don't work.
    registry
        .create_session(session(&alice, "s5", later))
        .await
        .unwrap();
    assert!(other.set_disabled(alice.id, true).await.unwrap());
    assert_eq!(registry.session("s5").await.unwrap(), None);
    registry
        .create_session(session(&alice, "s6", later))
        .await
        .unwrap();
    assert_eq!(registry.session("s6").await.unwrap(), None);
    assert!(other.account(alice.id).await.unwrap().unwrap().disabled);
    assert!(other.set_disabled(alice.id, false).await.unwrap());
    assert!(registry.session("s6").await.unwrap().is_some());
    assert!(!other.set_disabled(alice.id + 1000, true).await.unwrap());

    let token = |name: &str, expires_ms| NewToken {
        account: alice.id,
        name: name.into(),
        secret_hash: format!("secret-{name}"),
        scopes: vec!["publish:*".into(), "rooms".into()],
        expires_ms,
    };
    let ci = registry.create_token(token("ci", None)).await.unwrap();
    let laptop = other
        .create_token(token("laptop", Some(later)))
        .await
        .unwrap();
    assert!(laptop.id > ci.id);
    assert_eq!(
        (ci.last_used_ms, ci.scopes.len(), laptop.expires_ms),
        (None, 2, Some(later))
    );
    let (used, owner) = other.token("secret-ci").await.unwrap().unwrap();
    assert_eq!(owner.id, alice.id);
    let last_used = used.last_used_ms.expect("its use is recorded");
    let unused = TokenRecord {
        last_used_ms: None,
        ..used
    };
    assert_eq!(unused, ci, "the same token, used");
    assert_eq!(other.token("nope").await.unwrap(), None);
    let listed = registry.tokens(alice.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[0].id, listed[1].id), (ci.id, laptop.id));
    assert_eq!(listed[0].last_used_ms, Some(last_used));
    assert_eq!(listed[1], laptop);
    assert!(!registry.delete_token(alice.id + 1000, ci.id).await.unwrap());
    assert!(registry.delete_token(alice.id, ci.id).await.unwrap());
    assert!(!other.delete_token(alice.id, ci.id).await.unwrap());
    assert_eq!(other.token("secret-ci").await.unwrap(), None);
}

/// Accounts list by username, are found in any case, change role, quotas
/// and state, and go with their sessions; an invite is refused when
/// unknown or expired, and keeps its use after its users are gone.
pub(crate) async fn accounts_are_listed_changed_and_deleted_alike(s: &Stores) {
    let (registry, other) = (&*s.one, &*s.two);
    for name in ["carol", "alice", "bob"] {
        user(registry, name).await;
    }
    // A user already named so becomes the first admin.
    let bob = other.account_by_name("BoB").await.unwrap().unwrap();
    let admin = other.ensure_admin("bob", None).await.unwrap();
    assert_eq!((admin.id, admin.role), (bob.id, AccountRole::Admin));
    assert!(admin.has_password, "bob kept his password");
    let listed: Vec<String> = registry
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(listed, ["alice", "bob", "carol"]);
    let carol = registry.account_by_name("carol").await.unwrap().unwrap();
    assert_eq!(
        (carol.role, carol.disabled, carol.quotas),
        (AccountRole::User, false, QuotaOverrides::default())
    );
    assert!(carol.has_password && carol.created_ms > 0);
    assert_eq!(
        registry.account(carol.id).await.unwrap(),
        Some(carol.clone())
    );
    assert_eq!(registry.account(carol.id + 1000).await.unwrap(), None);
    assert_eq!(registry.account_by_name("dave").await.unwrap(), None);

    let overrides = QuotaOverrides {
        apps: Some(3),
        stored_bytes: Some(1 << 20),
        ..QuotaOverrides::default()
    };
    assert!(other.set_quotas(carol.id, overrides).await.unwrap());
    assert!(!other.set_quotas(carol.id + 1000, overrides).await.unwrap());
    assert!(other.set_role(carol.id, AccountRole::Admin).await.unwrap());
    assert!(
        !other
            .set_role(carol.id + 1000, AccountRole::Admin)
            .await
            .unwrap()
    );
    let carol = registry.account(carol.id).await.unwrap().unwrap();
    assert_eq!((carol.quotas, carol.role), (overrides, AccountRole::Admin));
    // The first admin is the admin with the lowest id.
    assert_eq!(
        registry.ensure_admin("zed", None).await.unwrap().id,
        carol.id
    );
    assert_eq!(registry.account_by_name("zed").await.unwrap(), None);

    let invite = registry
        .create_invite("code".into(), bob.id, now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(
        (invite.created_by.as_deref(), invite.used_by),
        (Some("bob"), None)
    );
    other
        .create_invite("stale".into(), bob.id, now_ms() - 1)
        .await
        .unwrap();
    for code in ["stale", "unknown"] {
        assert_eq!(
            other
                .create_account(new_account("erin"), Some(code.into()))
                .await
                .unwrap(),
            Err(CreateRefused::InviteInvalid)
        );
    }
    assert_eq!(registry.account_by_name("erin").await.unwrap(), None);
    let dave = other
        .create_account(new_account("dave"), Some("code".into()))
        .await
        .unwrap()
        .unwrap();

    registry
        .create_session(session(&dave, "dave-session", now_ms() + 60_000))
        .await
        .unwrap();
    assert_eq!(other.delete_account(dave.id).await.unwrap(), Some(vec![]));
    assert_eq!(other.delete_account(dave.id).await.unwrap(), None);
    assert_eq!(registry.session("dave-session").await.unwrap(), None);
    assert_eq!(registry.delete_sessions(dave.id).await.unwrap(), 0);
    other.delete_account(bob.id).await.unwrap();
    let invites = registry.invites().await.unwrap();
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[0].id, invite.id);
    assert_eq!(
        (
            invites[0].created_by.as_deref(),
            invites[0].used_by.as_deref()
        ),
        (None, None)
    );
    // Used stays used though its user is gone.
    assert_eq!(
        other
            .create_account(new_account("erin"), Some("code".into()))
            .await
            .unwrap(),
        Err(CreateRefused::InviteInvalid)
    );
}

/// Owners come first; an app keeps one owner; a transfer leaves one owner;
/// an admin may push anywhere and is held to no quota.
pub(crate) async fn collaborators_change_alike(s: &Stores) {
    let (registry, other) = (&*s.one, &*s.two);
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        people.push(user(registry, name).await);
    }
    let [alice, bob, carol, dave] = <[Account; 4]>::try_from(people).unwrap();
    let quotas = Quotas::default();
    for name in ["game", "a-b", "a0", "ab"] {
        created(
            registry
                .publish(version(name, "1.0.0", 7, by(&alice, quotas)))
                .await
                .unwrap(),
        );
    }
    let game = app("game");
    other
        .set_app_member(&game, bob.id, AppRole::Maintainer)
        .await
        .unwrap()
        .unwrap();
    other
        .set_app_member(&game, carol.id, AppRole::Owner)
        .await
        .unwrap()
        .unwrap();
    let members = |list: Vec<lodge_store::AppMember>| -> Vec<(String, AppRole)> {
        list.into_iter().map(|m| (m.username, m.role)).collect()
    };
    assert_eq!(
        members(registry.app_members(&game).await.unwrap()),
        [
            ("alice".into(), AppRole::Owner),
            ("carol".into(), AppRole::Owner),
            ("bob".into(), AppRole::Maintainer)
        ]
    );
    assert_eq!(
        registry.app_members(&game).await.unwrap()[0].account,
        alice.id
    );
    // Alice may step down while Carol owns it; then Carol can't.
    other
        .set_app_member(&game, alice.id, AppRole::Maintainer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        other
            .set_app_member(&game, carol.id, AppRole::Maintainer)
            .await
            .unwrap(),
        Err(MemberRefused::LastOwner)
    );
    assert_eq!(
        registry.remove_app_member(&game, carol.id).await.unwrap(),
        Err(MemberRefused::LastOwner)
    );
    assert_eq!(
        registry.remove_app_member(&game, dave.id).await.unwrap(),
        Err(MemberRefused::NotAMember)
    );
    assert_eq!(
        registry.remove_app_member(&game, bob.id).await.unwrap(),
        Ok(())
    );
    // Apps by name in byte order.
    let of_alice: Vec<(String, AppRole)> = other
        .apps_of(alice.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(a, r)| (a.to_string(), r))
        .collect();
    assert_eq!(
        of_alice,
        [
            ("a-b".into(), AppRole::Owner),
            ("a0".into(), AppRole::Owner),
            ("ab".into(), AppRole::Owner),
            ("game".into(), AppRole::Maintainer)
        ]
    );
    assert_eq!(
        registry.usage(alice.id).await.unwrap(),
        AccountUsage {
            apps: 3,
            stored_bytes: 21
        }
    );

    assert!(other.transfer_app(&game, dave.id).await.unwrap());
    assert!(!other.transfer_app(&app("nope"), dave.id).await.unwrap());
    assert_eq!(
        members(registry.app_members(&game).await.unwrap()),
        [
            ("dave".into(), AppRole::Owner),
            ("alice".into(), AppRole::Maintainer)
        ]
    );
    let owners: Vec<(String, String)> = registry
        .app_owners()
        .await
        .unwrap()
        .into_iter()
        .map(|(a, o)| (a.to_string(), o.username))
        .collect();
    let expected: Vec<(String, String)> = [
        ("a-b", "alice"),
        ("a0", "alice"),
        ("ab", "alice"),
        ("game", "dave"),
    ]
    .map(|(a, o)| (a.to_owned(), o.to_owned()))
    .into();
    assert_eq!(owners, expected);
    // With two owners, the first added is the one quotas are counted for
    // (added in the same millisecond, the lower id).
    tokio::time::sleep(Duration::from_millis(2)).await;
    other
        .set_app_member(&game, carol.id, AppRole::Owner)
        .await
        .unwrap()
        .unwrap();
    let game_owner = registry.app_owners().await.unwrap().pop().unwrap();
    assert_eq!(game_owner.1.id, dave.id);

    // An admin pushes to anyone's app (held to its owner's quotas), and
    // an admin owner has no quota.
    let root = registry.ensure_admin("root", None).await.unwrap();
    created(
        other
            .publish(version("game", "1.0.1", 1, by(&root, quotas)))
            .await
            .unwrap(),
    );
    let tiny = Quotas {
        apps: 0,
        versions_per_app: 0,
        stored_bytes: 0,
        kv_bytes: 0,
    };
    created(
        other
            .publish(version("roots", "1.0.0", 1, by(&root, tiny)))
            .await
            .unwrap(),
    );
    assert_eq!(
        members(registry.app_members(&app("roots")).await.unwrap()),
        [("root".into(), AppRole::Owner)]
    );
    // Deleting one of two owners leaves the app to the other.
    assert_eq!(
        registry.delete_account(dave.id).await.unwrap(),
        Some(vec![])
    );
    assert_eq!(
        members(other.app_members(&game).await.unwrap()),
        [
            ("carol".into(), AppRole::Owner),
            ("alice".into(), AppRole::Maintainer)
        ]
    );
}
