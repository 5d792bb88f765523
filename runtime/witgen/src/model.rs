//! The parsed WIT package and the questions the generators ask of it.

use std::path::{Path, PathBuf};
use wit_parser::{InterfaceId, PackageId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldItem};

use crate::names;

/// WIT types the plain Rust side spells with a compact native type instead of
/// a generated one: (WIT name, Rust type; `crate::` is the plain types' crate,
/// which defines it by hand).
pub const NATIVE: &[(&str, &str)] = &[("ip-address", "::std::net::IpAddr"), ("mac-address", "crate::MacAddress")];

/// The world whose exports are the events.
pub const EVENTS_WORLD: &str = "all-events";

/// weir's WIT package, parsed.
pub struct Wit {
    /// The resolved package and its dependencies.
    pub resolve: Resolve,
    /// The package itself.
    pub pkg: PackageId,
    /// Its `.wit` files: the one declaring the package first, the others by name.
    pub files: Vec<PathBuf>,
}

/// One parameter of an event.
pub struct Param {
    /// WIT name (`is-orig`).
    pub wit: String,
    /// Rust field name (`is_orig`).
    pub ident: String,
    /// WIT type.
    pub ty: Type,
}

/// One event: an exported interface holding one function of its own name.
pub struct EventDef {
    /// WIT interface and function name (`new-connection`).
    pub wit: String,
    /// The event's name in Zeek (`new_connection`, `OS_version_found`), from the
    /// interface's doc line ``Event `NAME`.``.
    pub zeek: String,
    /// `EventKind` / `Event` variant (`NewConnection`).
    pub variant: String,
    /// Rust module and field name of its interface (`new_connection`).
    pub module: String,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// The event family: the world `<family>-events` exporting it (`http`).
    pub family: String,
    /// The function's doc comment.
    pub docs: Option<String>,
}

impl Wit {
    /// Parses the package folder `dir`.
    pub fn load(dir: &Path) -> Result<Wit, String> {
        let mut resolve = Resolve::default();
        let (pkg, _) = resolve.push_dir(dir).map_err(|e| format!("reading {}: {e:#}", dir.display()))?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("listing {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wit"))
            .collect();
        files.sort();
        let declares = |p: &PathBuf| {
            std::fs::read_to_string(p).is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("package ")))
        };
        files.sort_by_key(|p| !declares(p));
        Ok(Wit { resolve, pkg, files })
    }

    /// `weir:events@0.1.0`.
    pub fn package_id(&self) -> String {
        self.resolve.packages[self.pkg].name.to_string()
    }

    /// `weir:events`.
    pub fn package_base(&self) -> String {
        let n = &self.resolve.packages[self.pkg].name;
        format!("{}:{}", n.namespace, n.name)
    }

    /// The events, in the order the events world exports them.
    pub fn events(&self) -> Result<Vec<EventDef>, String> {
        let world = self.resolve.packages[self.pkg]
            .worlds
            .get(EVENTS_WORLD)
            .ok_or_else(|| format!("no world {EVENTS_WORLD}"))?;
        let mut out = Vec::new();
        for item in self.resolve.worlds[*world].exports.values() {
            let WorldItem::Interface { id, .. } = item else {
                return Err(format!("world {EVENTS_WORLD} exports something other than an interface"));
            };
            let iface = &self.resolve.interfaces[*id];
            let name = iface.name.clone().ok_or("an anonymous interface is exported")?;
            let func = match (iface.functions.len(), iface.functions.get(&name)) {
                (1, Some(f)) => f,
                _ => return Err(format!("event interface {name} must hold exactly one function named {name}")),
            };
            let docs = iface.docs.contents.as_deref().unwrap_or("");
            let zeek = docs
                .lines()
                .find_map(|l| l.trim().strip_prefix("Event `").and_then(|r| r.split('`').next()))
                .ok_or_else(|| format!("interface {name} lacks its doc line Event `zeek_name`."))?
                .to_string();
            // A module's events (`QUIC::initial_packet`) are named `quic-initial-packet`.
            if zeek.replace("::", "_").to_lowercase() != names::zeek(&name).to_lowercase() {
                return Err(format!("interface {name} names event {zeek}"));
            }
            let params = func
                .params
                .iter()
                .map(|p| Param { wit: p.name.clone(), ident: names::ident(&p.name), ty: p.ty })
                .collect();
            let family = self.family(*id).ok_or_else(|| format!("event {name} is in no `<family>-events` world"))?;
            out.push(EventDef {
                family,
                variant: names::camel(&name),
                module: names::ident(&name),
                zeek,
                wit: name,
                params,
                docs: func.docs.contents.clone(),
            });
        }
        Ok(out)
    }

    /// The family of the event interface `id`: the first world named
    /// `<family>-events` (other than the events world) that exports it.
    fn family(&self, id: InterfaceId) -> Option<String> {
        let worlds = &self.resolve.packages[self.pkg].worlds;
        worlds.iter().filter(|(n, _)| n.as_str() != EVENTS_WORLD).find_map(|(n, w)| {
            let fam = n.strip_suffix("-events")?;
            let exports = self.resolve.worlds[*w].exports.values();
            exports.into_iter().any(|it| matches!(it, WorldItem::Interface { id: i, .. } if *i == id)).then(|| fam.to_string())
        })
    }

    /// Every named type the package defines (not those an interface only
    /// `use`s), in file order: (type, owning interface).
    pub fn named_types(&self) -> Vec<(TypeId, InterfaceId)> {
        let mut out = Vec::new();
        for iface_id in self.resolve.packages[self.pkg].interfaces.values() {
            for ty in self.resolve.interfaces[*iface_id].types.values() {
                if self.is_use(*ty) {
                    continue;
                }
                out.push((*ty, *iface_id));
            }
        }
        out
    }

    /// Whether `id` is an interface's `use` of another interface's type.
    pub fn is_use(&self, id: TypeId) -> bool {
        let td = &self.resolve.types[id];
        match td.kind {
            TypeDefKind::Type(Type::Id(target)) => self.resolve.types[target].name == td.name,
            _ => false,
        }
    }

    /// The type a `use` stands for (itself otherwise).
    pub fn canonical(&self, mut id: TypeId) -> TypeId {
        while self.is_use(id) {
            let TypeDefKind::Type(Type::Id(t)) = self.resolve.types[id].kind else { unreachable!() };
            id = t;
        }
        id
    }

    /// The WIT name of named type `id`.
    pub fn name(&self, id: TypeId) -> &str {
        self.resolve.types[id].name.as_deref().expect("a named type")
    }

    /// The Rust type the plain side uses instead of a generated one, if any.
    pub fn native(&self, id: TypeId) -> Option<&'static str> {
        let name = self.resolve.types[self.canonical(id)].name.as_deref()?;
        NATIVE.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    /// The snake-case module of the interface owning named type `id` (`types`).
    pub fn owner_module(&self, id: TypeId) -> String {
        match self.resolve.types[self.canonical(id)].owner {
            TypeOwner::Interface(i) => names::ident(self.resolve.interfaces[i].name.as_deref().expect("named")),
            _ => panic!("type {} is not owned by an interface", self.name(id)),
        }
    }

    /// Whether a value of `ty` holds a string or list anywhere (wasmtime then
    /// passes it to an export by reference).
    pub fn has_list(&self, ty: &Type) -> bool {
        self.any(ty, false, &|t| matches!(t, Type::String), &|k| matches!(k, TypeDefKind::List(_)))
    }

    /// Whether `ty` may derive `Copy`.
    pub fn is_copy(&self, ty: &Type) -> bool {
        !self.any(ty, true, &|t| matches!(t, Type::String), &|k| matches!(k, TypeDefKind::List(_)))
    }

    /// Whether `ty` may derive `Eq` and `Hash` (no floats).
    pub fn is_eq(&self, ty: &Type) -> bool {
        !self.any(ty, true, &|t| matches!(t, Type::F32 | Type::F64), &|_| false)
    }

    /// Whether `ty` may derive `Default` (no enums, variants or native types).
    pub fn is_default(&self, ty: &Type) -> bool {
        match ty {
            Type::Id(id) => {
                if self.native(*id).is_some() {
                    return false;
                }
                match &self.resolve.types[self.canonical(*id)].kind {
                    TypeDefKind::Record(r) => r.fields.iter().all(|f| self.is_default(&f.ty)),
                    TypeDefKind::Enum(_) | TypeDefKind::Variant(_) => false,
                    TypeDefKind::Tuple(t) => t.types.iter().all(|t| self.is_default(t)),
                    TypeDefKind::Type(t) => self.is_default(t),
                    _ => true,
                }
            }
            _ => true,
        }
    }

    /// Whether the plain and the wasmtime form of `ty` are the same Rust type
    /// (no named type inside), so a value can be handed over without conversion.
    pub fn same_in_both(&self, ty: &Type) -> bool {
        match ty {
            Type::Id(id) => {
                let td = &self.resolve.types[self.canonical(*id)];
                if self.native(*id).is_some() || (td.name.is_some() && !matches!(td.kind, TypeDefKind::Type(_))) {
                    return false;
                }
                match &td.kind {
                    TypeDefKind::List(t) | TypeDefKind::Option(t) | TypeDefKind::Type(t) => self.same_in_both(t),
                    TypeDefKind::Tuple(t) => t.types.iter().all(|t| self.same_in_both(t)),
                    _ => false,
                }
            }
            _ => true,
        }
    }

    /// Whether any type inside `ty` (itself included) satisfies `prim` or `kind`;
    /// with `plain`, native types count as satisfying neither (their plain form
    /// is plain data), otherwise they count as what the WIT says they are.
    fn any(&self, ty: &Type, plain: bool, prim: &dyn Fn(&Type) -> bool, kind: &dyn Fn(&TypeDefKind) -> bool) -> bool {
        if prim(ty) {
            return true;
        }
        let Type::Id(id) = ty else { return false };
        if plain && self.native(*id).is_some() {
            return false;
        }
        let k = &self.resolve.types[self.canonical(*id)].kind;
        if kind(k) {
            return true;
        }
        match k {
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.any(&f.ty, plain, prim, kind)),
            TypeDefKind::Variant(v) => v.cases.iter().any(|c| c.ty.as_ref().is_some_and(|t| self.any(t, plain, prim, kind))),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.any(t, plain, prim, kind)),
            TypeDefKind::List(t) | TypeDefKind::Option(t) | TypeDefKind::Type(t) => self.any(t, plain, prim, kind),
            TypeDefKind::Result(r) => {
                r.ok.as_ref().is_some_and(|t| self.any(t, plain, prim, kind)) || r.err.as_ref().is_some_and(|t| self.any(t, plain, prim, kind))
            }
            _ => false,
        }
    }
}
