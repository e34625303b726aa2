//! The user permissions the emulated org models, as a real org holds them: on profiles
//! and on permission sets (a profile's own permission set carries the profile's). A user
//! may do what the union of their profile's and their assigned permission sets'
//! permissions allows. The names are the `PermissionSet` fields without their
//! `Permissions` prefix, as metadata `userPermissions` and `certmint::wire::rest::objects::
//! PERMISSION_FIELDS` spell them.
//!
//! What each gates in the emulator: deploying and the SOAP Metadata API (`ModifyAllData`
//! or `ModifyMetadata`: "Modify Metadata Through Metadata API Functions or Modify All
//! Data", the Metadata API Developer Guide's deploy() page), creating and deleting
//! permission sets over REST (`ManageProfilesPermissionsets`) and assigning them or
//! deleting assignments (`AssignPermissionSets`). `CustomizeApplication` is reported, not
//! enforced (no source says the REST deploy checks it).

/// One user permission the emulator models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Modify All Data.
    ModifyAllData,
    /// Modify Metadata Through Metadata API Functions.
    ModifyMetadata,
    /// Customize Application.
    CustomizeApplication,
    /// Manage Profiles and Permission Sets.
    ManageProfilesPermissionsets,
    /// Assign Permission Sets.
    AssignPermissionSets,
}

impl Permission {
    /// Every permission modelled, in the order `PermissionSet` reports them.
    pub const ALL: &'static [Permission] = &[
        Permission::ModifyAllData,
        Permission::ModifyMetadata,
        Permission::CustomizeApplication,
        Permission::ManageProfilesPermissionsets,
        Permission::AssignPermissionSets,
    ];

    /// The permission's API name (`ModifyMetadata`).
    pub fn name(self) -> &'static str {
        match self {
            Permission::ModifyAllData => "ModifyAllData",
            Permission::ModifyMetadata => "ModifyMetadata",
            Permission::CustomizeApplication => "CustomizeApplication",
            Permission::ManageProfilesPermissionsets => "ManageProfilesPermissionsets",
            Permission::AssignPermissionSets => "AssignPermissionSets",
        }
    }

    /// The `PermissionSet` field reporting it (`PermissionsModifyMetadata`).
    pub fn field(self) -> String {
        format!("Permissions{}", self.name())
    }

    /// The permission with this API name (exact spelling).
    pub fn from_name(name: &str) -> Option<Permission> {
        Self::ALL.iter().copied().find(|p| p.name() == name.trim())
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`Permission`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Permissions(u8);

impl Permissions {
    /// No permission (the Standard User profile's, as far as the emulator models).
    pub const NONE: Permissions = Permissions(0);
    /// Every permission (the System Administrator profile's).
    pub const ALL: Permissions = Permissions(0b1_1111);

    /// Whether `p` is in the set.
    pub fn has(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// The set with `p` added.
    pub fn with(self, p: Permission) -> Permissions {
        Permissions(self.0 | p.bit())
    }

    /// Both sets together.
    pub fn union(self, other: Permissions) -> Permissions {
        Permissions(self.0 | other.0)
    }

    /// May deploy metadata: Modify All Data or Modify Metadata.
    pub fn may_deploy(self) -> bool {
        self.has(Permission::ModifyAllData) || self.has(Permission::ModifyMetadata)
    }

    /// The names of the permissions in the set, in [`Permission::ALL`]'s order.
    pub fn names(self) -> Vec<&'static str> {
        Permission::ALL
            .iter()
            .filter(|p| self.has(**p))
            .map(|p| p.name())
            .collect()
    }

    /// The set of the named permissions; an unknown name is returned as the error.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Permissions, String> {
        names.iter().try_fold(Permissions::NONE, |acc, n| {
            Permission::from_name(n.as_ref())
                .map(|p| acc.with(p))
                .ok_or_else(|| n.as_ref().to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_deploying_needs_one_of_two() {
        let all: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(Permissions::from_names(&all).unwrap(), Permissions::ALL);
        assert_eq!(Permissions::ALL.names(), all);
        assert_eq!(
            Permission::ModifyMetadata.field(),
            "PermissionsModifyMetadata"
        );
        assert_eq!(
            Permissions::from_names(&["ModifyMetadata", "Bogus"]),
            Err("Bogus".into())
        );
        assert!(!Permissions::NONE.may_deploy());
        assert!(
            Permissions::NONE
                .with(Permission::ModifyAllData)
                .may_deploy()
        );
        assert!(
            Permissions::NONE
                .with(Permission::ModifyMetadata)
                .may_deploy()
        );
        assert!(
            !Permissions::NONE
                .with(Permission::CustomizeApplication)
                .union(Permissions::NONE.with(Permission::AssignPermissionSets))
                .may_deploy()
        );
    }
}
