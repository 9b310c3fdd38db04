//! COCO's eighty classes, in the order NanoDet scores them, and the groups the music hears.

/// The groups of things the music listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Face,
    Person,
    Animal,
    Vehicle,
    /// Food and what it is served in (a café table).
    Table,
    Other,
}

pub const COCO: [&str; 80] = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
];

/// COCO's boat.
pub const BOAT: u8 = 8;

/// Class `class`'s name ("?" for none).
pub fn name(class: u8) -> &'static str {
    COCO.get(usize::from(class)).copied().unwrap_or("?")
}

/// The group class `class` belongs to.
pub fn kind(class: u8) -> Kind {
    match class {
        0 => Kind::Person,
        1..=8 => Kind::Vehicle,
        14..=23 => Kind::Animal,
        39..=55 | 60 => Kind::Table,
        _ => Kind::Other,
    }
}
