//! Deploy packages as zip files: [`DeployPackage`] builds one (the manifest and a file per
//! component, deflated, with fixed timestamps so the same components give the same bytes)
//! and [`DeployZip::read`] reads one within [`ZipLimits`], finding `package.xml` at the
//! root or under one top-level folder (`sf project deploy start` zips a metadata directory
//! as `zip/…`) and component files with or without a `-meta.xml` suffix.

use std::io::{Cursor, Read, Write};

use super::package::{Component, MetadataType, Package, check_full_name};
use super::xml::Problem;
use crate::{Error, Result};

/// Bounds on a zip being read.
#[derive(Clone, Debug)]
pub struct ZipLimits {
    /// Entries in the archive. Default 1,000.
    pub max_files: usize,
    /// Uncompressed bytes of one entry. Default 1 MiB.
    pub max_file_bytes: u64,
    /// Uncompressed bytes of all entries. Default 16 MiB.
    pub max_total_bytes: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_files: 1000,
            max_file_bytes: 1 << 20,
            max_total_bytes: 16 << 20,
        }
    }
}

/// The name of the manifest of components a deploy deletes (after the others are
/// deployed: `destructiveChanges.xml` and `destructiveChangesPost.xml`; before them:
/// `destructiveChangesPre.xml`).
pub const DESTRUCTIVE_CHANGES: &str = "destructiveChanges.xml";
/// Deleted before the package's components are deployed.
pub const DESTRUCTIVE_CHANGES_PRE: &str = "destructiveChangesPre.xml";
/// Deleted after the package's components are deployed.
pub const DESTRUCTIVE_CHANGES_POST: &str = "destructiveChangesPost.xml";

/// A deploy package being built: the manifest and one file per component, and the
/// components it deletes (`destructiveChanges.xml`, which a deploy applies after the
/// package's own components; a deploy that only deletes has a `package.xml` without
/// types).
#[derive(Clone, Debug)]
pub struct DeployPackage {
    package: Package,
    files: Vec<(String, String)>,
    destructive: Option<Package>,
}

impl DeployPackage {
    /// An empty package for API version `major`.0.
    pub fn new(api_version: u32) -> Self {
        DeployPackage {
            package: Package::new(api_version),
            files: Vec::new(),
            destructive: None,
        }
    }

    /// Delete component `full_name` of type `kind` in the org (it goes into
    /// `destructiveChanges.xml`).
    pub fn delete(&mut self, kind: MetadataType, full_name: &str) -> Result<()> {
        check_full_name(full_name)
            .map_err(|p| Error::invalid(crate::error::Input::MetadataComponentName, p.message))?;
        let version = self.package.version.clone();
        self.destructive
            .get_or_insert_with(|| Package {
                types: Vec::new(),
                version,
            })
            .add(kind, full_name);
        Ok(())
    }

    /// The manifest of what is deleted, when anything is.
    pub fn destructive(&self) -> Option<&Package> {
        self.destructive.as_ref()
    }

    /// Add `component` as `full_name` (which must be a valid API name): its file goes to
    /// `<folder>/<full_name>.<suffix>` and its name into the manifest.
    pub fn add(&mut self, full_name: &str, component: &Component) -> Result<()> {
        check_full_name(full_name)
            .map_err(|p| Error::invalid(crate::error::Input::MetadataComponentName, p.message))?;
        let kind = component.kind();
        let path = kind.path(full_name);
        if self.files.iter().any(|(p, _)| *p == path) {
            return Err(Error::invalid(
                crate::error::Input::MetadataComponentName,
                format!("{kind} `{full_name}` is added twice"),
            ));
        }
        self.files.push((path, component.to_xml()?));
        self.package.add(kind, full_name);
        Ok(())
    }

    /// Add component `full_name` of type `kind` as an element tree (a component read from
    /// the org and edited): written as its type's file, `fullName` left out.
    pub fn add_element(
        &mut self,
        kind: MetadataType,
        full_name: &str,
        element: &super::Element,
    ) -> Result<()> {
        check_full_name(full_name)
            .map_err(|p| Error::invalid(crate::error::Input::MetadataComponentName, p.message))?;
        let path = kind.path(full_name);
        if self.files.iter().any(|(p, _)| *p == path) {
            return Err(Error::invalid(
                crate::error::Input::MetadataComponentName,
                format!("{kind} `{full_name}` is added twice"),
            ));
        }
        let mut el = element.renamed(kind.name());
        el.children.retain(|c| c.name != "fullName");
        self.files.push((path, el.to_file()));
        self.package.add(kind, full_name);
        Ok(())
    }

    /// The manifest so far.
    pub fn package(&self) -> &Package {
        &self.package
    }

    /// The files so far: (path in the zip, XML), manifest excluded.
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(p, x)| (p.as_str(), x.as_str()))
    }

    /// The zip: `package.xml` and the component files at the root.
    pub fn to_zip(&self) -> Result<Vec<u8>> {
        self.to_zip_under("")
    }

    /// The zip with every file under `folder/` (e.g. `zip`), as the Salesforce CLI
    /// packs a metadata directory; an empty `folder` puts them at the root.
    pub fn to_zip_under(&self, folder: &str) -> Result<Vec<u8>> {
        let prefix = if folder.is_empty() {
            String::new()
        } else {
            format!("{}/", folder.trim_matches('/'))
        };
        let zip_err = |e: zip::result::ZipError| Error::invalid(crate::error::Input::DeployZip, e);
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file(format!("{prefix}package.xml"), opts)
            .map_err(zip_err)?;
        w.write_all(self.package.to_xml()?.as_bytes())?;
        if let Some(d) = &self.destructive {
            w.start_file(format!("{prefix}{DESTRUCTIVE_CHANGES}"), opts)
                .map_err(zip_err)?;
            w.write_all(d.to_xml()?.as_bytes())?;
        }
        for (path, xml) in &self.files {
            w.start_file(format!("{prefix}{path}"), opts)
                .map_err(zip_err)?;
            w.write_all(xml.as_bytes())?;
        }
        Ok(w.finish().map_err(zip_err)?.into_inner())
    }
}

/// One file of a deploy zip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipEntry {
    /// Its path below the package root (`connectedApps/App.connectedApp`).
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A deploy zip as read: where its manifest is and its files.
#[derive(Clone, Debug)]
pub struct DeployZip {
    /// The folder holding `package.xml` (`""` or e.g. `zip/`).
    pub root: String,
    /// The manifest's bytes.
    pub package_xml: Vec<u8>,
    /// The other files below the root.
    pub files: Vec<ZipEntry>,
    /// Entries in the archive.
    pub entries: usize,
}

impl DeployZip {
    /// Read a deploy zip within `limits`. A broken archive, one beyond the limits, or one
    /// without `package.xml` at the root or under a single folder is refused with the
    /// problem to report.
    pub fn read(bytes: &[u8], limits: &ZipLimits) -> std::result::Result<DeployZip, Problem> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| Problem::new(format!("The deploy zip could not be read: {e}")))?;
        if archive.len() > limits.max_files {
            return Err(Problem::new(format!(
                "The deploy zip has {} files; the limit is {}",
                archive.len(),
                limits.max_files
            )));
        }
        let mut all = Vec::with_capacity(archive.len());
        let mut total = 0u64;
        for i in 0..archive.len() {
            let mut f = archive
                .by_index(i)
                .map_err(|e| Problem::new(format!("The deploy zip could not be read: {e}")))?;
            if f.is_dir() {
                continue;
            }
            let name = f
                .name()
                .map_err(|e| Problem::new(format!("The deploy zip could not be read: {e}")))?
                .replace('\\', "/");
            if name.starts_with('/') || name.split('/').any(|p| p == "..") {
                return Err(Problem::new(format!(
                    "The deploy zip holds an unsafe path: {}",
                    crate::text::escape(&name)
                )));
            }
            if f.size() > limits.max_file_bytes {
                return Err(too_big(&name, limits.max_file_bytes));
            }
            let mut buf = Vec::new();
            (&mut f)
                .take(limits.max_file_bytes + 1)
                .read_to_end(&mut buf)
                .map_err(|e| Problem::new(format!("The deploy zip could not be read: {e}")))?;
            let n = u64::try_from(buf.len()).unwrap_or(u64::MAX);
            if n > limits.max_file_bytes {
                return Err(too_big(&name, limits.max_file_bytes));
            }
            total = total.saturating_add(n);
            if total > limits.max_total_bytes {
                return Err(Problem::new(format!(
                    "The deploy zip expands to more than {} bytes",
                    limits.max_total_bytes
                )));
            }
            all.push(ZipEntry {
                path: name,
                bytes: buf,
            });
        }
        let entries = all.len();
        let manifests: Vec<&str> = all
            .iter()
            .map(|e| e.path.as_str())
            .filter(|p| {
                *p == "package.xml"
                    || p.strip_suffix("/package.xml")
                        .is_some_and(|d| !d.contains('/'))
            })
            .collect();
        let root = if manifests.contains(&"package.xml") {
            String::new()
        } else if manifests.len() == 1 {
            manifests[0].trim_end_matches("package.xml").to_owned()
        } else {
            return Err(Problem::new("No package.xml found"));
        };
        let mut package_xml = Vec::new();
        let mut files = Vec::new();
        for e in all {
            let Some(rel) = e.path.strip_prefix(root.as_str()) else {
                continue;
            };
            if rel == "package.xml" {
                package_xml = e.bytes;
            } else {
                files.push(ZipEntry {
                    path: rel.to_owned(),
                    bytes: e.bytes,
                });
            }
        }
        Ok(DeployZip {
            root,
            package_xml,
            files,
            entries,
        })
    }

    /// The file of component `full_name` of type `kind`: `<folder>/<name>.<suffix>`, or
    /// the same with `-meta.xml` appended.
    pub fn find(&self, kind: MetadataType, full_name: &str) -> Option<&ZipEntry> {
        let path = kind.path(full_name);
        let meta = format!("{path}-meta.xml");
        self.files
            .iter()
            .find(|f| f.path == path)
            .or_else(|| self.files.iter().find(|f| f.path == meta))
    }

    /// The destructive manifests at the package root, in the order a deploy applies them
    /// (`destructiveChangesPre.xml` before the package's components; `destructiveChanges.xml`
    /// and `destructiveChangesPost.xml` after): (file name, bytes, applied before).
    pub fn destructive(&self) -> Vec<(&'static str, &[u8], bool)> {
        [
            (DESTRUCTIVE_CHANGES_PRE, true),
            (DESTRUCTIVE_CHANGES, false),
            (DESTRUCTIVE_CHANGES_POST, false),
        ]
        .into_iter()
        .filter_map(|(name, pre)| {
            self.files
                .iter()
                .find(|f| f.path == name)
                .map(|f| (name, f.bytes.as_slice(), pre))
        })
        .collect()
    }

    /// Every component file of `kind` in the zip, with its full name (for a `*` member).
    pub fn all_of(&self, kind: MetadataType) -> Vec<(String, &ZipEntry)> {
        let folder = format!("{}/", kind.folder());
        let suffix = format!(".{}", kind.suffix());
        let mut out: Vec<(String, &ZipEntry)> = Vec::new();
        for f in &self.files {
            let Some(name) = f.path.strip_prefix(&folder) else {
                continue;
            };
            let name = name.strip_suffix("-meta.xml").unwrap_or(name);
            if let Some(full) = name.strip_suffix(&suffix)
                && !full.contains('/')
                && !out.iter().any(|(n, _)| n == full)
            {
                out.push((full.to_owned(), f));
            }
        }
        out
    }
}

fn too_big(name: &str, limit: u64) -> Problem {
    Problem::new(format!(
        "The file {} in the deploy zip expands to more than {limit} bytes",
        crate::text::escape(name)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destructive_package_zips_and_reads_back() {
        let mut p = DeployPackage::new(62);
        p.delete(MetadataType::ExternalClientApplication, "acme")
            .unwrap();
        p.delete(
            MetadataType::ExtlClntAppGlobalOauthSettings,
            "acme_glbloauth",
        )
        .unwrap();
        assert!(p.delete(MetadataType::PermissionSet, "bad name").is_err());
        let zip = p.to_zip().unwrap();
        let read = DeployZip::read(&zip, &ZipLimits::default()).unwrap();
        let manifest = Package::from_xml(&read.package_xml).unwrap();
        assert!(manifest.types.is_empty(), "{manifest:?}");
        let d = read.destructive();
        assert_eq!(d.len(), 1);
        let (name, bytes, pre) = d[0];
        assert_eq!((name, pre), (DESTRUCTIVE_CHANGES, false));
        let gone = Package::from_xml(bytes).unwrap();
        let names: Vec<&str> = gone.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ExternalClientApplication",
                "ExtlClntAppGlobalOauthSettings"
            ]
        );
        assert_eq!(gone.version, "62.0");
    }
}
