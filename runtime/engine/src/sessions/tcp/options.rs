//! TCP option parsing.

/// Checks the window-scale option of a SYN: a scale above 14 is a
/// `TCP_scale_range` weird (the scale itself is not needed, see [`TcpEndpoint`]).
pub(super) fn check_window_scale(opts: &[u8], weirds: &mut Vec<&'static str>, did_weird: bool) {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => break,
            1 => i += 1,
            kind => {
                let Some(&len) = opts.get(i + 1) else { break };
                let len = len as usize;
                if len < 2 || i + len > opts.len() {
                    break;
                }
                if kind == 3 && len == 3 {
                    if opts[i + 2] > 14 && !did_weird {
                        weirds.push("TCP_scale_range");
                    }
                    return;
                }
                i += len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weirds(opts: &[u8], did_weird: bool) -> Vec<&'static str> {
        let mut w = Vec::new();
        check_window_scale(opts, &mut w, did_weird);
        w
    }

    #[test]
    fn window_scale_above_14_is_a_weird() {
        assert_eq!(weirds(&[3, 3, 15], false), ["TCP_scale_range"]);
        assert!(weirds(&[3, 3, 14], false).is_empty());
        assert!(weirds(&[3, 3, 15], true).is_empty(), "not after another weird of the connection");
    }

    #[test]
    fn options_are_walked_to_the_scale() {
        // NOP, MSS 1460, NOP, scale 20.
        assert_eq!(weirds(&[1, 2, 4, 5, 0xb4, 1, 3, 3, 20], false), ["TCP_scale_range"]);
        // End of options before the scale.
        assert!(weirds(&[0, 3, 3, 20], false).is_empty());
        // A bad length stops the walk.
        assert!(weirds(&[2, 1, 3, 3, 20], false).is_empty());
        assert!(weirds(&[2, 9, 3, 3, 20], false).is_empty());
        // A truncated scale option.
        assert!(weirds(&[1, 3], false).is_empty());
        // Only the first scale option counts.
        assert!(weirds(&[3, 3, 2, 3, 3, 20], false).is_empty());
    }
}
