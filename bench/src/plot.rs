//! A hand-written SVG of a sweep: server CPU µs per forwarded packet, p99 latency and loss
//! against the number of subscribers, one line per target.

use std::fmt::Write as _;

/// One line of a panel: a name and (x, y) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// One panel: a title and its series.
pub struct Panel {
    pub title: String,
    pub series: Vec<Series>,
    /// Logarithmic y axis (decades), for values spanning orders of magnitude.
    pub log_y: bool,
}

const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

/// Panels side by side; `x_label` under each.
pub fn svg(title: &str, x_label: &str, panels: &[Panel]) -> String {
    let (pw, ph, ml, mt, mb, mr) = (330.0, 260.0, 55.0, 50.0, 45.0, 15.0);
    let width = panels.len() as f64 * (pw + ml + mr);
    let height = ph + mt + mb + 30.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">{}</text>"#,
        width / 2.0,
        esc(title)
    );
    for (pi, panel) in panels.iter().enumerate() {
        let x0 = pi as f64 * (pw + ml + mr) + ml;
        let y0 = mt;
        let pts = panel.series.iter().flat_map(|se| se.points.iter());
        let xmax = nice_max(pts.clone().map(|p| p.0).fold(0.0, f64::max));
        let (ymin, ymax) = if panel.log_y {
            let hi = pts.clone().map(|p| p.1).fold(f64::MIN_POSITIVE, f64::max);
            let lo = pts.map(|p| p.1).filter(|v| *v > 0.0).fold(hi, f64::min);
            (
                10f64.powf(lo.log10().floor()),
                10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
            )
        } else {
            (0.0, nice_max(pts.map(|p| p.1).fold(0.0, f64::max)))
        };
        let log_y = panel.log_y;
        let frac = move |y: f64| {
            if log_y {
                (y.max(ymin).log10() - ymin.log10()) / (ymax.log10() - ymin.log10())
            } else {
                y / ymax
            }
        };
        let sx = |x: f64| x0 + x / xmax * pw;
        let sy = |y: f64| y0 + ph - frac(y) * ph;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
            x0 + pw / 2.0,
            y0 - 10.0,
            esc(&panel.title)
        );
        let decades = (ymax / ymin).log10().round().max(1.0);
        let yticks = if log_y { decades as usize } else { 5 };
        for k in 0..=5 {
            let fy = if log_y {
                ymin * 10f64.powf(k.min(yticks) as f64)
            } else {
                ymax * k as f64 / 5.0
            };
            let fx = xmax * k as f64 / 5.0;
            let _ = (!log_y || k <= yticks).then(|| writeln!(
                s,
                r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                x0 + pw,
                x0 - 4.0,
                sy(fy) + 4.0,
                trim(fy),
                y = sy(fy)
            ));
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                sx(fx),
                y0 + ph + 15.0,
                trim(fx)
            );
        }
        let _ = writeln!(
            s,
            r#"<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x0 + pw / 2.0,
            y0 + ph + 32.0,
            esc(x_label)
        );
        for (si, se) in panel.series.iter().enumerate() {
            let c = COLORS[si % COLORS.len()];
            let path: Vec<String> = se
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="2"/>"#,
                path.join(" ")
            );
            for &(x, y) in &se.points {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"/><text x="{:.1}" y="{:.1}" fill="{c}" font-size="9">{}</text>"#,
                    sx(x),
                    sy(y),
                    sx(x) + 4.0,
                    sy(y) - 4.0,
                    trim(y)
                );
            }
            // Legend under the panel, clear of the data.
            let _ = writeln!(
                s,
                r#"<rect x="{}" y="{}" width="10" height="3" fill="{c}"/><text x="{}" y="{}" fill="{c}">{}</text>"#,
                x0 + 150.0 * si as f64,
                y0 + ph + 47.0,
                x0 + 14.0 + 150.0 * si as f64,
                y0 + ph + 51.0,
                esc(&se.name)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn trim(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_a_line_per_series() {
        let p = Panel {
            title: "cpu".into(),
            log_y: true,
            series: vec![
                Series {
                    name: "ours".into(),
                    points: vec![(10.0, 5.0), (50.0, 6.0)],
                },
                Series {
                    name: "janus".into(),
                    points: vec![(10.0, 9.0)],
                },
            ],
        };
        let s = svg("t <x>", "subscribers", &[p]);
        assert!(s.starts_with("<svg"));
        assert_eq!(s.matches("<polyline").count(), 2);
        assert!(s.contains("t &lt;x&gt;"));
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(180.0), 200.0);
    }
}
