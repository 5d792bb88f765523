//! Tunnel headers the core decapsulates: GRE (incl. ERSPAN), VXLAN, Geneve,
//! GTPv1-U, Teredo, AYIYA. IP-in-IP needs no header of its own.
