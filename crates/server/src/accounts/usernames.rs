//! Usernames share the app-name alphabet (a-z, 0-9 and '-'), and are
//! compared in lower case, so `Alice` signs in as `alice`.

use lodge_manifest::AppName;

/// The username `given` stands for, or why it can't be one.
pub fn normalize(given: &str) -> Result<String, String> {
    let lower = given.trim().to_ascii_lowercase();
    AppName::new(&lower).map(|_| lower).map_err(|_| {
        format!(
            "\"{given}\" is not a valid username: use 1-64 characters from a-z, 0-9 and '-', not starting or ending with '-'"
        )
    })
}
