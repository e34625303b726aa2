//! Checking a certmint directory: the manifest's current generation, file by file, its
//! certificate and key, and with the password its keystores.

use std::path::Path;

use super::{Check, Finding, Options, Report, Status, expiry};
use crate::manifest::{self, Manifest, Role};
use crate::salesforce;
use crate::text::escape;
use crate::{Error, Password, Result, workdir};

/// Check a directory made by `certmint init` whose manifest `m` was loaded
/// ([`workdir::load`]): nothing left unfinished, the current generation's files present
/// and unchanged, its certificate's expiry, key and certificate together, a rotation that
/// waits to be activated; with the directory's `password`, its keystores are opened and
/// the JKS is checked against Salesforce's rules.
pub fn directory(
    dir: &Path,
    m: &Manifest,
    password: Option<&Password>,
    opts: &Options,
) -> Result<Report> {
    let shown = escape(&dir.display().to_string());
    let report = |findings| Report {
        path: dir.to_path_buf(),
        title: "certmint directory",
        kind: "directory",
        findings,
    };
    let mut findings = Vec::new();
    findings.extend(super::permissions::findings(dir, m));
    if let Some(p) = m.pending() {
        findings.push(
            Finding::new(
                Check::Finished,
                Status::Fail,
                format!("generation {} was interrupted while being made", p.dir),
            )
            .fix(format!(
                "finish it: certmint {} {shown} (with the directory's password)",
                p.origin.command()
            )),
        );
    }
    let Some(g) = m.current_generation() else {
        findings.push(
            Finding::new(
                Check::HasCurrent,
                Status::Fail,
                "no generation is complete yet",
            )
            .fix(format!("run certmint init {shown}")),
        );
        return Ok(report(findings));
    };
    let gen_label = g.dir.as_str();
    for role in m.roles() {
        findings.push(file_finding(dir, &shown, g, role).generation(gen_label));
    }
    let cert_path = workdir::file_path(dir, m, g, Role::Certificate);
    match crate::readfile::read(&cert_path)
        .ok()
        .and_then(|d| crate::x509::parse(&d).ok())
    {
        Some(info) => {
            let renew = renew_fix(&shown, m.days, opts.warn_days);
            findings.push(expiry(&info, opts, Some(renew)).generation(gen_label));
            let spki = crate::key::spki_sha256(&info.spki);
            let ok = spki == g.public_key_sha256;
            let detail = if ok {
                format!("public key SHA-256 {spki}")
            } else {
                format!(
                    "the certificate's public key ({spki}) is not the generation's key ({})",
                    g.public_key_sha256
                )
            };
            findings.push(
                Finding::passed_if(Check::KeyMatchesCertificate, ok, detail)
                    .generation(gen_label)
                    .fix(format!(
                        "run certmint renew {shown} to issue a certificate for the key"
                    )),
            );
        }
        None => findings.push(
            Finding::new(
                Check::Expiry,
                Status::Fail,
                "the certificate cannot be read",
            )
            .generation(gen_label),
        ),
    }
    if let Some(waiting) = workdir::newest_inactive(m).filter(|w| w.number > g.number) {
        findings.push(Finding::new(
            Check::Rotation,
            Status::NotChecked,
            format!(
                "generation {} is ready and waits for `certmint rotate {shown} --activate`",
                waiting.dir
            ),
        ));
    }
    if g.status != manifest::Status::Complete {
        findings.push(Finding::new(
            Check::CurrentComplete,
            Status::Fail,
            format!("{} is not complete", g.dir),
        ));
    }
    if let Some(pw) = password {
        for role in m
            .roles()
            .into_iter()
            .filter(|r| matches!(r, Role::Pkcs12 | Role::Jks))
        {
            findings.extend(keystore_findings(dir, m, g, role, pw));
        }
    }
    Ok(report(findings))
}

/// The renewal that clears the expiry alarm: with the directory's password (`--passin`)
/// and a validity (`--days`) longer than the warning threshold, so that the new certificate
/// does not raise the same alarm at once. A directory whose certificates last `days`, no
/// more than the threshold (`init --days 30` checked with the default 30), gets
/// `warn_days + 30`, and is told why.
fn renew_fix(shown: &str, days: u32, warn_days: i64) -> String {
    let days = i64::from(days);
    let (new_days, why) = if days > warn_days {
        (days, String::new())
    } else {
        let n = warn_days.saturating_add(30).max(1);
        (
            n,
            format!(
                "; the directory's certificates last {days} days, no longer than the {warn_days}-day warning threshold, so a renewal with the same validity would raise this alarm again at once (or check with a --warn-days below {days})"
            ),
        )
    };
    format!(
        "certmint renew {shown} --passin SRC --days {new_days} (same key, zero downtime), then upload the new certificate; Salesforce keeps accepting assertions after expiry, but renew before your policy or auditors object{why}"
    )
}

/// Is the file of `role` in generation `g` recorded, present and unchanged?
fn file_finding(dir: &Path, shown: &str, g: &manifest::Generation, role: Role) -> Finding {
    let Some(rec) = g.files.get(&role) else {
        return Finding::new(
            Check::FileRecorded,
            Status::Fail,
            format!("{} is not recorded in the manifest", role.describe()),
        );
    };
    let path = dir.join(&g.dir).join(&rec.name);
    let (status, detail, fix) = match crate::readfile::read_secret(&path) {
        Ok(bytes) if manifest::file_digest(&bytes) == rec.sha256 => (
            Status::Pass,
            format!("{} present and unchanged", rec.name),
            None,
        ),
        Ok(_) => (
            Status::Fail,
            format!("{} changed since certmint wrote it", rec.name),
            Some(format!(
                "restore it from a backup, or move it away and run certmint init {shown} to rebuild it"
            )),
        ),
        Err(_) if role.is_optional() && path.symlink_metadata().is_err() => (
            Status::NotChecked,
            if role == Role::Jks {
                format!(
                    "{} is not there (fine once imported in Certificate and Key Management; `certmint jks` remakes it from the key and certificate)",
                    rec.name
                )
            } else {
                format!(
                    "{} is absent: the unencrypted key is optional (only the Salesforce CLI needs it; certmint mint --dir signs with the encrypted key)",
                    rec.name
                )
            },
            None,
        ),
        // A FIFO, a device (a symlink to /dev/zero) or an oversize file in its place.
        Err(e @ (Error::NotRegularFile(_) | Error::TooLarge { .. })) => (
            Status::Fail,
            format!("{} cannot be read: {e}", rec.name),
            Some(format!(
                "move it away and restore the file from a backup, or run certmint init {shown} to rebuild it"
            )),
        ),
        Err(_) => (
            Status::Fail,
            format!("{} is missing", rec.name),
            Some(if matches!(role, Role::EncryptedKey | Role::PlainKey) {
                format!(
                    "restore the key from a backup (certmint never regenerates a key); the other key file, if present, lets certmint init {shown} rebuild it"
                )
            } else {
                format!("run certmint init {shown} to rebuild it")
            }),
        ),
    };
    let f = Finding::new(Check::FileIntact, status, detail);
    match fix {
        Some(fix) => f.fix(fix),
        None => f,
    }
}

/// With the directory's password: does the keystore of `role` open and hold the
/// generation's key? For the JKS, Salesforce's rules too.
fn keystore_findings(
    dir: &Path,
    m: &Manifest,
    g: &manifest::Generation,
    role: Role,
    password: &Password,
) -> Vec<Finding> {
    let path = workdir::file_path(dir, m, g, role);
    let Ok(data) = crate::readfile::read_secret(&path) else {
        return Vec::new();
    };
    let opened = crate::keystore::open(&data, password, None, None, true);
    let ok = opened.as_ref().is_ok_and(|o| {
        o.rsa_key()
            .is_ok_and(|k| k.public_key_sha256() == g.public_key_sha256)
    });
    let detail = match &opened {
        Ok(_) if ok => format!(
            "{} opens with the password and holds the generation's key",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        Ok(_) => "the keystore holds another key".into(),
        Err(e) => format!("cannot open it: {e}"),
    };
    let mut findings =
        vec![Finding::passed_if(Check::KeystoreOpens, ok, detail).generation(g.dir.as_str())];
    if role == Role::Jks
        && let Ok(rules) = salesforce::check_jks(&data, password)
    {
        let shown = escape(&path.display().to_string());
        let detected = crate::detect::detect(&data);
        findings.extend(
            rules
                .iter()
                .map(|f| Finding::from_rule(f, &shown, &detected)),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::renew_fix;

    #[test]
    fn the_renewal_fix_clears_the_alarm() {
        let long = renew_fix("acme", 365, 30);
        assert!(
            long.starts_with("certmint renew acme --passin SRC --days 365 "),
            "{long}"
        );
        assert!(!long.contains("threshold"), "{long}");
        let short = renew_fix("acme", 30, 30);
        assert!(
            short.starts_with("certmint renew acme --passin SRC --days 60 "),
            "{short}"
        );
        assert!(short.contains("30-day warning threshold"), "{short}");
    }
}
