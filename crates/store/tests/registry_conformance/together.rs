//! Cases of two servers writing one store at once.

use super::*;

/// Two servers publishing at once: different versions of one app both
/// land once; one name@version with different content lands once and the
/// other sees the conflict; two first pushes of one name make one owner.
pub(crate) async fn servers_publishing_together_take_turns(s: &Stores) {
    let (one, two) = (&*s.one, &*s.two);
    for round in 0..5 {
        let (a, b) = tokio::join!(
            one.publish(version("race", &format!("1.{round}.0"), 1, None)),
            two.publish(version("race", &format!("2.{round}.0"), 1, None)),
        );
        created(a.unwrap());
        created(b.unwrap());
    }
    let apps = one.list_apps().await.unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(
        (apps[0].versions, &apps[0].latest.version),
        (10, &semver("2.4.0"))
    );
    assert_eq!(two.versions(&app("race")).await.unwrap().len(), 10);

    for round in 0..5 {
        let v = format!("3.{round}.0");
        let mut theirs = version("race", &v, 2, None);
        theirs.digest = "theirs".into();
        let (a, b) = tokio::join!(
            one.publish(version("race", &v, 1, None)),
            two.publish(theirs)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let winner = match (&a, &b) {
            (PublishOutcome::Created(won), PublishOutcome::Conflict(seen))
            | (PublishOutcome::Conflict(seen), PublishOutcome::Created(won)) => {
                assert_eq!(won, seen, "the loser sees the winner's version");
                won.digest.clone()
            }
            _ => panic!("one must win: {a:?} / {b:?}"),
        };
        let stored = one
            .version(&app("race"), &semver(&v))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.digest, winner);
    }

    let (alice, bob) = (user(one, "alice").await, user(two, "bob").await);
    let quotas = Quotas::default();
    let (a, b) = tokio::join!(
        one.publish(version("fresh", "1.0.0", 1, by(&alice, quotas))),
        two.publish(version("fresh", "1.0.1", 1, by(&bob, quotas))),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let (winner, refusal) = match (&a, &b) {
        (PublishOutcome::Created(_), PublishOutcome::Refused(r)) => ("alice", r),
        (PublishOutcome::Refused(r), PublishOutcome::Created(_)) => ("bob", r),
        _ => panic!("one must win: {a:?} / {b:?}"),
    };
    assert_eq!(
        refusal,
        &PublishRefusal::NotACollaborator {
            owners: vec![winner.into()]
        }
    );
    let members = one.app_members(&app("fresh")).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].username, winner);
}

/// Two servers asking for one signing key at once get the same key, and
/// of two asking for the GC lease at once exactly one gets it.
pub(crate) async fn servers_racing_for_a_key_or_the_lease_agree(s: &Stores) {
    let (one, two) = (&*s.one, &*s.two);
    for round in 0..5 {
        let name = format!("key-{round}");
        let (a, b) = tokio::join!(
            one.server_key(&name, vec![1; 32]),
            two.server_key(&name, vec![2; 32]),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b);
        assert!(a == vec![1; 32] || a == vec![2; 32]);
        assert_eq!(one.server_key(&name, vec![3; 32]).await.unwrap(), a);
    }
    assert_ne!(
        one.server_key("other", vec![4; 32]).await.unwrap(),
        one.server_key("key-0", vec![4; 32]).await.unwrap()
    );

    let ttl = Duration::from_secs(60);
    let mut fences = Vec::new();
    for _ in 0..5 {
        let (a, b) = tokio::join!(one.lock_gc("one", ttl), two.lock_gc("two", ttl));
        let (a, b) = (a.unwrap(), b.unwrap());
        let lease = match (a, b) {
            (Some(lease), None) | (None, Some(lease)) => lease,
            (a, b) => panic!("exactly one holder: {a:?} / {b:?}"),
        };
        fences.push(lease.fence);
        one.unlock_gc(&lease).await.unwrap();
    }
    assert!(fences.windows(2).all(|w| w[1] > w[0]), "{fences:?}");
}
