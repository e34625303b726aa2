//! `certmint inspect FILE...`: what a file is, recognised by content, and what a person
//! needs to know about it.

use std::path::PathBuf;

use certmint::detect::Kind;
use certmint::inspect::{self, CertReport, Report, StoreEntryReport};
use certmint::text::escape;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, shown};
use super::password::{PassSource, Purpose};
use super::stdio;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint inspect server.crt server.csr server.pass.key
  $ certmint inspect server.p12 server.jks --passin env:STORE_PASS
  $ certmint inspect acme-jwt              # a directory made by certmint init
  $ certmint jwt --key server.key --client-id K -u user@acme.com \\
      | certmint inspect -
  $ certmint inspect --json server.crt | jq -r .not_after
  $ certmint inspect --json server.crt server.csr | jq -r '.[].kind'

NOTES:
Recognises keys (PKCS#1, PKCS#8, encrypted PKCS#8, OpenSSL's traditional encrypted PEM; PEM
or DER), public keys, CSRs, certificates (PEM or DER), PKCS#12, JKS, JWT assertions and
certmint directories, by content, never by file name. Shows type, key size, subject,
issuer, serial, validity and days left, a certificate's extensions as `openssl x509
-text` names them (basic constraints, key usage, extended key usage, subject alternative
names, subject and authority key identifiers; \"critical, \" first when marked so), SHA-1
and SHA-256 fingerprints and the public-key SHA-256
(equal for a key and its certificate); for keystores the aliases, entries and algorithms
(with --passin, the keys and certificates inside); for a JWT its header and claims with
exp as a date (the signature is not verified). Text from files is escaped before it
reaches the terminal. `-` reads standard input.

With --json, one input (a file, a certmint directory or `-`) prints one JSON object, its
\"kind\" saying what it is; several inputs print an array of those objects, in the order
given. Every object also has \"file\", the input as named.

EXIT CODES:
  0  every input was recognised and described
  2  error (unreadable or unrecognised input, wrong password)";

#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// Files, certmint directories, or `-` for standard input.
    #[arg(value_name = "FILE|DIR", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Password source to open keystores and encrypted keys: pass:TEXT, env:VAR,
    /// file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Print JSON on stdout: one object for one input, an array of objects (in the order
    /// given) for several.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: InspectArgs) -> CliResult<()> {
    let now = certmint::x509::now_seconds();
    let mut docs = Vec::new();
    let mut text = String::new();
    for input in &args.inputs {
        let report = if input.as_os_str() == "-" {
            let mut buf = Vec::new();
            use std::io::Read;
            std::io::stdin()
                .take(super::common::MAX_INPUT)
                .read_to_end(&mut buf)
                .map_err(|e| CliError::new("cannot read standard input").cause(e))?;
            inspect_bytes(ctx, input, &buf, &args, now)?
        } else if input.is_dir() {
            inspect::inspect_dir(input, now)
                .map_err(|e| CliError::lib("cannot inspect", Some(input), e))?
        } else {
            let data = zeroize::Zeroizing::new(ctx.read(input, "input")?);
            inspect_bytes(ctx, input, &data, &args, now)?
        };
        if args.json {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("file".into(), input.display().to_string().into());
            }
            docs.push(v);
        } else {
            text.push_str(&render(&shown(input), &report));
        }
    }
    if args.json {
        // One input (a file, a directory, `-`): its object; several: an array of them.
        let out = match docs.as_slice() {
            [one] => serde_json::to_string_pretty(one),
            _ => serde_json::to_string_pretty(&docs),
        }
        .unwrap_or_default();
        stdio::out(format!("{out}\n").as_bytes())
    } else {
        stdio::out(text.as_bytes())
    }
}

fn inspect_bytes(
    ctx: &mut Ctx,
    path: &std::path::Path,
    data: &[u8],
    args: &InspectArgs,
    now: time::OffsetDateTime,
) -> CliResult<Report> {
    let cannot = |e| CliError::lib("cannot inspect", Some(path), e);
    let kind = certmint::detect::identify(data).map_err(cannot)?;
    // A password only when one was given and the input can use it.
    let needs = match kind {
        Kind::Jks | Kind::Pkcs12 => true,
        Kind::PrivateKey => certmint::key::probe(data)
            .map(|i| i.is_encrypted())
            .unwrap_or(false),
        _ => false,
    };
    let pw = match (&args.passin, needs) {
        (Some(src), true) => Some(ctx.passwords.get(
            Some(src),
            "--passin",
            &format!("`{}`", shown(path)),
            Purpose::Existing,
        )?),
        _ => None,
    };
    inspect::inspect(data, pw.as_ref(), now).map_err(cannot)
}

fn kv(out: &mut String, indent: usize, key: &str, value: impl AsRef<str>) {
    out.push_str(&format!(
        "{:indent$}{key:<19} {}\n",
        "",
        value.as_ref(),
        indent = indent
    ));
}

fn cert_lines(out: &mut String, indent: usize, c: &CertReport) {
    kv(out, indent, "subject:", &c.subject);
    if c.self_signed {
        kv(out, indent, "issuer:", "(self-signed)");
    } else {
        kv(out, indent, "issuer:", &c.issuer);
    }
    kv(out, indent, "serial:", &c.serial);
    let state = if c.expired {
        format!("EXPIRED {} ago", certmint::text::days(-c.days_left))
    } else {
        format!("{} left", certmint::text::days(c.days_left))
    };
    kv(out, indent, "valid from:", &c.not_before);
    kv(
        out,
        indent,
        "valid until:",
        format!("{} ({state})", c.not_after),
    );
    kv(out, indent, "key:", key_words(c.key_bits, &c.key_algorithm));
    kv(
        out,
        indent,
        "signature:",
        format!("{} (X.509 v{})", c.signature_algorithm, c.version),
    );
    kv(out, indent, "SHA-1:", &c.sha1);
    kv(out, indent, "SHA-256:", &c.sha256);
    kv(out, indent, "public key SHA-256:", &c.public_key_sha256);
    let extensions = c.extensions.lines();
    if extensions.is_empty() {
        let none = if c.version < 3 {
            "none (X.509 v1 has no extensions)"
        } else {
            "none"
        };
        kv(out, indent, "extensions:", none);
    } else {
        out.push_str(&format!("{:indent$}extensions:\n", "", indent = indent));
        for (label, value) in extensions {
            kv(out, indent + 2, &format!("{label}:"), value);
        }
    }
}

/// A key's size, or for a key that is not RSA its algorithm and why Salesforce cannot use
/// it.
fn key_words(bits: Option<usize>, algorithm: &str) -> String {
    match bits {
        Some(b) => format!("RSA {b} bits"),
        None => format!("{algorithm} ({})", certmint::inspect::NOT_RSA),
    }
}

fn entry_lines(out: &mut String, e: &StoreEntryReport) {
    kv(out, 2, "entry:", format!("{} ({})", e.alias, e.entry_type));
    if let Some(c) = &e.created {
        kv(out, 4, "created:", c);
    }
    if let Some(k) = &e.key {
        kv(out, 4, "key:", k);
    }
    for (i, c) in e.chain.iter().enumerate() {
        out.push_str(&format!("    certificate [{i}]\n"));
        cert_lines(out, 6, c);
    }
}

fn json_text(v: &serde_json::Value) -> String {
    escape(&serde_json::to_string(v).unwrap_or_default())
}

/// The text form of a report.
fn render(name: &str, report: &Report) -> String {
    let mut out = String::new();
    match report {
        Report::PrivateKey(k) => {
            out.push_str(&format!("{name}: private key\n"));
            kv(&mut out, 2, "format:", &k.format);
            match (&k.unusable, &k.algorithm) {
                (Some(why), Some(alg)) => kv(&mut out, 2, "key:", format!("{alg} ({why})")),
                _ => kv(
                    &mut out,
                    2,
                    "size:",
                    k.bits
                        .map(|b| format!("RSA {b} bits"))
                        .unwrap_or_else(|| "unknown until decrypted (give --passin)".into()),
                ),
            }
            if let Some(f) = &k.public_key_sha256 {
                kv(&mut out, 2, "public key SHA-256:", f);
            }
        }
        Report::PublicKey(p) => {
            out.push_str(&format!("{name}: public key\n"));
            kv(&mut out, 2, "size:", key_words(p.bits, &p.algorithm));
            kv(&mut out, 2, "SHA-256:", &p.sha256);
        }
        Report::Csr(c) => {
            out.push_str(&format!("{name}: certificate signing request (PKCS#10)\n"));
            kv(&mut out, 2, "subject:", &c.subject);
            kv(&mut out, 2, "key:", key_words(c.key_bits, &c.key_algorithm));
            kv(
                &mut out,
                2,
                "signature:",
                if c.signature_valid {
                    "valid"
                } else {
                    "DOES NOT VERIFY"
                },
            );
            kv(&mut out, 2, "public key SHA-256:", &c.public_key_sha256);
        }
        Report::Certificate(c) => {
            out.push_str(&format!("{name}: certificate\n"));
            cert_lines(&mut out, 2, c);
        }
        Report::Pkcs12(p) => {
            out.push_str(&format!("{name}: PKCS#12 keystore\n"));
            kv(&mut out, 2, "algorithms:", &p.algorithms);
            kv(
                &mut out,
                2,
                "profile:",
                p.profile.as_deref().unwrap_or("(none of certmint's)"),
            );
            kv(&mut out, 2, "readable by:", &p.readable_by);
            if !p.aliases.is_empty() {
                kv(&mut out, 2, "aliases:", p.aliases.join(", "));
            }
            if !p.opened {
                kv(
                    &mut out,
                    2,
                    "contents:",
                    "encrypted (give --passin to list keys and certificates)",
                );
            }
            for e in &p.entries {
                entry_lines(&mut out, e);
            }
        }
        Report::Jks(j) => {
            out.push_str(&format!("{name}: JKS keystore (version {})\n", j.version));
            kv(&mut out, 2, "integrity:", &j.integrity);
            for e in &j.entries {
                entry_lines(&mut out, e);
            }
        }
        Report::Jwt(j) => {
            out.push_str(&format!("{name}: JWT assertion (signature not verified)\n"));
            kv(&mut out, 2, "header:", json_text(&j.header));
            if let Some(obj) = j.claims.as_object() {
                for (k, v) in obj {
                    kv(&mut out, 2, &format!("{}:", escape(k)), json_text(v));
                }
            }
            if let (Some(e), Some(s)) = (&j.expires, j.expires_in_seconds) {
                let when = if s >= 0 {
                    format!("in {s} seconds")
                } else {
                    format!("{} seconds ago", -s)
                };
                let ms = if j.exp_in_milliseconds {
                    " (exp is in milliseconds, as the Salesforce CLI sends it)"
                } else {
                    ""
                };
                kv(&mut out, 2, "expires:", format!("{e} ({when}){ms}"));
            }
            kv(
                &mut out,
                2,
                "signature:",
                format!("{} bytes", j.signature_bytes),
            );
        }
        Report::Directory(d) => {
            out.push_str(&format!("{name}: certmint directory\n"));
            kv(&mut out, 2, "subject:", &d.subject);
            kv(&mut out, 2, "alias:", &d.alias);
            kv(
                &mut out,
                2,
                "current:",
                d.current.as_deref().unwrap_or("(none)"),
            );
            if let Some(c) = &d.salesforce.client_id {
                kv(&mut out, 2, "client id:", escape(c));
            }
            if let Some(u) = &d.salesforce.username {
                kv(&mut out, 2, "username:", escape(u));
            }
            if let Some(l) = &d.salesforce.login_url {
                kv(&mut out, 2, "login URL:", escape(l));
            }
            for g in &d.generations {
                let mark = if g.current { " (current)" } else { "" };
                out.push_str(&format!(
                    "  generation {}{mark}: {}, {}, RSA {} bits\n",
                    g.dir, g.origin, g.status, g.key_bits
                ));
                if let (Some(na), Some(days)) = (&g.not_after, g.days_left) {
                    kv(
                        &mut out,
                        4,
                        "valid until:",
                        format!("{na} ({} left)", certmint::text::days(days)),
                    );
                }
                if let Some(s) = &g.sha1 {
                    kv(&mut out, 4, "SHA-1:", s);
                }
                kv(&mut out, 4, "public key SHA-256:", &g.public_key_sha256);
            }
        }
    }
    out
}
