//! Drawings as files: the page's topology `<svg>` as a standalone SVG
//! document (the page's styles written into each element, so it looks the
//! same anywhere), and any SVG drawn into a PNG by the browser's own
//! renderer (an image on a canvas, twice the drawing's size for sharp
//! print). A failure leaves the page as it was: nothing downloads.

use crate::storage::download_blob;
use base64::Engine;
use mobike_render::topology::{TOPO_H, TOPO_W};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement, HtmlImageElement};

/// The styles that decide how a drawing looks; each element's computed
/// value is written into its `style` attribute.
const PROPS: [&str; 20] = [
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "display",
    "visibility",
    "paint-order",
    "letter-spacing",
    "text-decoration",
];

/// How much larger than the drawing the PNG is.
const PNG_SCALE: f64 = 2.0;

/// The page's `<svg id=…>` as a standalone SVG document.
pub fn element_svg(id: &str) -> Option<String> {
    let window = web_sys::window()?;
    let doc = window.document()?;
    let original = doc.get_element_by_id(id)?;
    let copy: Element = original.clone_node_with_deep(true).ok()?.dyn_into().ok()?;
    let from = original.query_selector_all("*").ok()?;
    let to = copy.query_selector_all("*").ok()?;
    let pairs = std::iter::once((original.clone(), copy.clone())).chain(
        (0..from.length().min(to.length())).filter_map(|i| {
            let a = from.item(i)?.dyn_into::<Element>().ok()?;
            let b = to.item(i)?.dyn_into::<Element>().ok()?;
            Some((a, b))
        }),
    );
    for (a, b) in pairs {
        let Ok(Some(style)) = window.get_computed_style(&a) else {
            continue;
        };
        let mut inline = String::new();
        for p in PROPS {
            if let Ok(v) = style.get_property_value(p)
                && !v.is_empty()
            {
                inline.push_str(&format!("{p}:{v};"));
            }
        }
        let _ = b.set_attribute("style", &inline);
        // Page-only attributes: focus order, handlers' ids.
        let _ = b.remove_attribute("tabindex");
    }
    let _ = copy.set_attribute("xmlns", "http://www.w3.org/2000/svg");
    let _ = copy.set_attribute("width", &TOPO_W.to_string());
    let _ = copy.set_attribute("height", &TOPO_H.to_string());
    let _ = copy.remove_attribute("id");
    let text = web_sys::XmlSerializer::new()
        .ok()?
        .serialize_to_string(&copy)
        .ok()?;
    Some(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{text}"
    ))
}

/// Draws `svg` into a PNG and downloads it as `name`.
pub fn svg_to_png(svg: &str, name: &str) {
    let Ok(img) = HtmlImageElement::new() else {
        return;
    };
    let url = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg.as_bytes())
    );
    let name = name.to_string();
    let loaded = img.clone();
    let onload = Closure::once_into_js(move || {
        let _ = draw(&loaded, &name);
    });
    img.set_onload(Some(onload.unchecked_ref()));
    img.set_src(&url);
}

fn draw(img: &HtmlImageElement, name: &str) -> Option<()> {
    let doc = web_sys::window()?.document()?;
    let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
    let (w, h) = (img.natural_width() as f64, img.natural_height() as f64);
    canvas.set_width((w * PNG_SCALE).round() as u32);
    canvas.set_height((h * PNG_SCALE).round() as u32);
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, w * PNG_SCALE, h * PNG_SCALE);
    ctx.draw_image_with_html_image_element_and_dw_and_dh(
        img,
        0.0,
        0.0,
        w * PNG_SCALE,
        h * PNG_SCALE,
    )
    .ok()?;
    let name = name.to_string();
    let done = Closure::once_into_js(move |blob: Option<web_sys::Blob>| {
        if let Some(b) = blob {
            download_blob(&name, &b);
        }
    });
    canvas.to_blob(done.unchecked_ref()).ok()
}
