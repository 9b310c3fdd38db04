//! A small inference engine for the three picture-content networks: it reads their ONNX files
//! and runs the operators they use, in f32, on the background thread.
//!
//! Why not a general ONNX runtime: the three graphs use twenty operators, almost all of their
//! time is in convolutions (a matrix product, `matrixmultiply`), and a general runtime (tract)
//! was 40% of the plug-in's build (about 400 of 1000 CPU-seconds) for that. What the engine does
//! not know (an operator, an attribute value, a shape that does not fit) is an error naming it,
//! never a panic, so a model file that changes is caught by the tests, not by a musician.
//!
//! Loading folds everything that does not depend on the picture (the weights' float16 to f32,
//! the shape arithmetic the converter left in) into constants, so a run is the network's own
//! work: convolutions, activations, pooling, resizing and the reshaping of the outputs.

use std::collections::HashMap;

type Result<T> = std::result::Result<T, String>;

/// A tensor: its shape and its values, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    data: Data,
}

#[derive(Clone, Debug, PartialEq)]
enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl Tensor {
    pub fn f32(shape: Vec<usize>, values: Vec<f32>) -> Result<Tensor> {
        if shape.iter().product::<usize>() != values.len() {
            return Err(format!(
                "{} values do not fill a {shape:?} tensor",
                values.len()
            ));
        }
        Ok(Tensor {
            shape,
            data: Data::F32(values),
        })
    }

    fn i64(shape: Vec<usize>, values: Vec<i64>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Tensor {
            shape,
            data: Data::I64(values),
        }
    }

    /// The values, when they are f32.
    pub fn values(&self) -> Result<&[f32]> {
        match &self.data {
            Data::F32(v) => Ok(v),
            Data::I64(_) => Err(String::from("integers where numbers were expected")),
        }
    }

    /// The shape and the values, when they are f32.
    pub fn into_values(self) -> Result<(Vec<usize>, Vec<f32>)> {
        match self.data {
            Data::F32(v) => Ok((self.shape, v)),
            Data::I64(_) => Err(String::from("integers where numbers were expected")),
        }
    }

    fn ints(&self) -> Result<&[i64]> {
        match &self.data {
            Data::I64(v) => Ok(v),
            Data::F32(_) => Err(String::from("numbers where integers were expected")),
        }
    }

    fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A network, ready to run.
pub struct Net {
    nodes: Vec<Node>,
    /// The values known before any picture (weights and what was folded from them), by slot.
    constants: Vec<Option<Tensor>>,
    input: usize,
    outputs: Vec<usize>,
    /// After which node each slot is no longer needed (the slot's memory is freed then); `None`
    /// for the outputs and what no node reads.
    last_use: Vec<Option<usize>>,
}

struct Node {
    op: Op,
    inputs: Vec<Option<usize>>,
    outputs: Vec<usize>,
}

#[derive(Clone, Debug)]
enum Op {
    Conv(ConvSpec),
    Relu,
    LeakyRelu(f32),
    Sigmoid,
    Add,
    Pad,
    MaxPool(PoolSpec),
    Concat(i64),
    Split(i64),
    /// Bilinear resize by the scales input, half-pixel centres (the only kind the models use).
    Resize,
    Expand,
    ScatterNd,
    Reshape,
    Transpose(Vec<usize>),
    GlobalAveragePool,
    Squeeze,
    Softmax(i64),
    /// To f32 (1) or i64 (7).
    Cast(i64),
    Identity,
}

#[derive(Clone, Copy, Debug)]
struct ConvSpec {
    group: usize,
    /// What the output passes through (a Relu or LeakyRelu that only it fed, fused at load).
    activation: Activation,
    /// Top, left, bottom, right.
    pads: [usize; 4],
    strides: [usize; 2],
    dilations: [usize; 2],
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Activation {
    Linear,
    Relu,
    Leaky(f32),
}

#[derive(Clone, Copy, Debug)]
struct PoolSpec {
    kernel: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
}

impl Net {
    /// Reads an ONNX model and folds what it can.
    pub fn load(bytes: &[u8]) -> Result<Net> {
        let graph = onnx::read_model(bytes)?;
        let mut slots: HashMap<String, usize> = HashMap::new();
        let mut constants: Vec<Option<Tensor>> = Vec::new();
        fn slot(
            slots: &mut HashMap<String, usize>,
            name: &str,
            constants: &mut Vec<Option<Tensor>>,
        ) -> usize {
            *slots.entry(name.to_string()).or_insert_with(|| {
                constants.push(None);
                constants.len() - 1
            })
        }
        for (name, tensor) in graph.initializers {
            let s = slot(&mut slots, &name, &mut constants);
            constants[s] = Some(tensor);
        }
        let Some(input) = graph.inputs.iter().find(|name| {
            slots
                .get(name.as_str())
                .is_none_or(|&s| constants[s].is_none())
        }) else {
            return Err(String::from("the model has no input"));
        };
        let input = slot(&mut slots, &input.clone(), &mut constants);
        let mut nodes = Vec::new();
        for node in graph.nodes {
            let op = Op::of(&node)?;
            let inputs: Vec<Option<usize>> = node
                .inputs
                .iter()
                .map(|name| (!name.is_empty()).then(|| slot(&mut slots, name, &mut constants)))
                .collect();
            let outputs: Vec<usize> = node
                .outputs
                .iter()
                .map(|name| slot(&mut slots, name, &mut constants))
                .collect();
            let known: Option<Vec<Option<&Tensor>>> = inputs
                .iter()
                .map(|i| match i {
                    None => Some(None),
                    Some(s) => constants[*s].as_ref().map(Some),
                })
                .collect();
            match known {
                // Nothing here depends on the picture: compute it now, once.
                Some(values) => {
                    let results = op
                        .run(&values, &mut Vec::new())
                        .map_err(|e| format!("{} ({}): {e}", node.op_type, node.name))?;
                    for (s, value) in outputs.iter().zip(results) {
                        constants[*s] = Some(value);
                    }
                }
                None => nodes.push(Node {
                    op,
                    inputs,
                    outputs,
                }),
            }
        }
        let outputs: Vec<usize> = graph
            .outputs
            .iter()
            .map(|name| {
                slots
                    .get(name.as_str())
                    .copied()
                    .ok_or_else(|| format!("the model's output {name} is made by no node"))
            })
            .collect::<Result<Vec<usize>>>()?;
        fuse(&mut nodes, &constants, &outputs);
        let mut last_use = vec![None; constants.len()];
        for (n, node) in nodes.iter().enumerate() {
            for s in node.inputs.iter().flatten() {
                last_use[*s] = Some(n);
            }
        }
        // (Constants no node reads at run time are dropped: the weights before their casts.)
        for (s, c) in constants.iter_mut().enumerate() {
            if last_use[s].is_none() && !outputs.contains(&s) {
                *c = None;
            }
        }
        for &s in &outputs {
            last_use[s] = None;
        }
        Ok(Net {
            nodes,
            constants,
            input,
            outputs,
            last_use,
        })
    }

    /// Runs the network on `input`: its outputs, in the model's order.
    pub fn run(&self, input: Tensor) -> Result<Vec<Tensor>> {
        let mut values: Vec<Option<Tensor>> = vec![None; self.constants.len()];
        // The convolutions' unfolded windows, one buffer for the whole run.
        let mut scratch = Vec::new();
        values[self.input] = Some(input);
        for (n, node) in self.nodes.iter().enumerate() {
            let results = {
                let inputs: Vec<Option<&Tensor>> = node
                    .inputs
                    .iter()
                    .map(|i| match i {
                        None => Ok(None),
                        Some(s) => values[*s]
                            .as_ref()
                            .or(self.constants[*s].as_ref())
                            .map(Some)
                            .ok_or_else(|| String::from("a value is used before it is made")),
                    })
                    .collect::<Result<_>>()?;
                node.op.run(&inputs, &mut scratch)?
            };
            if results.len() < node.outputs.len() {
                return Err(format!("{:?} made too few outputs", node.op));
            }
            for (s, value) in node.outputs.iter().zip(results) {
                values[*s] = Some(value);
            }
            for s in node.inputs.iter().flatten() {
                if self.last_use[*s] == Some(n) {
                    values[*s] = None;
                }
            }
        }
        self.outputs
            .iter()
            .map(|&s| {
                values[s]
                    .take()
                    .or_else(|| self.constants[s].clone())
                    .ok_or_else(|| String::from("an output was never made"))
            })
            .collect()
    }
}

/// Folds what is cheaper done inside its neighbour: a zero (or, before a max pool, -inf)
/// padding of the height and width into the convolution or pool it alone feeds, and a Relu or
/// LeakyRelu into the convolution that alone feeds it. Each saves a pass over, and a copy of, a
/// whole tensor.
fn fuse(nodes: &mut Vec<Node>, constants: &[Option<Tensor>], outputs: &[usize]) {
    let readers = |nodes: &[Node], slot: usize| {
        nodes
            .iter()
            .filter(|n| n.inputs.iter().flatten().any(|&i| i == slot))
            .count()
            + usize::from(outputs.contains(&slot))
    };
    let mut i = 0;
    while i < nodes.len() {
        let Some(&out) = nodes[i].outputs.first() else {
            i += 1;
            continue;
        };
        let alone = readers(nodes, out) == 1;
        let Some(j) = nodes
            .iter()
            .position(|n| n.inputs.first() == Some(&Some(out)))
            .filter(|_| alone)
        else {
            i += 1;
            continue;
        };
        let constant = |k: usize| {
            nodes[i]
                .inputs
                .get(k)
                .copied()
                .flatten()
                .and_then(|s| constants[s].as_ref())
        };
        match (&nodes[i].op, &nodes[j].op) {
            (Op::Pad, Op::Conv(_) | Op::MaxPool(_)) => {
                let pads = constant(1).and_then(|p| p.ints().ok()).unwrap_or(&[]);
                let fill = match nodes[i].inputs.get(2).copied().flatten() {
                    None => Some(0.0),
                    Some(_) => constant(2).and_then(|v| v.values().ok()?.first().copied()),
                };
                let spatial =
                    matches!(pads, &[0, 0, _, _, 0, 0, _, _]) && pads.iter().all(|&p| p >= 0);
                let fits = match nodes[j].op {
                    Op::Conv(_) => fill == Some(0.0),
                    _ => fill == Some(f32::NEG_INFINITY),
                };
                if !(spatial && fits) {
                    i += 1;
                    continue;
                }
                let add = [pads[2], pads[3], pads[6], pads[7]].map(|p| p as usize);
                let target = match &mut nodes[j].op {
                    Op::Conv(spec) => &mut spec.pads,
                    Op::MaxPool(spec) => &mut spec.pads,
                    _ => unreachable!(),
                };
                for (t, a) in target.iter_mut().zip(add) {
                    *t += a;
                }
                nodes[j].inputs[0] = nodes[i].inputs[0];
                nodes.remove(i);
            }
            (Op::Conv(spec), Op::Relu | Op::LeakyRelu(_))
                if spec.activation == Activation::Linear =>
            {
                let activation = match nodes[j].op {
                    Op::LeakyRelu(alpha) => Activation::Leaky(alpha),
                    _ => Activation::Relu,
                };
                let result = nodes[j].outputs[0];
                if let Op::Conv(spec) = &mut nodes[i].op {
                    spec.activation = activation;
                }
                nodes[i].outputs[0] = result;
                nodes.remove(j);
            }
            _ => i += 1,
        }
    }
}

fn attr<'a>(node: &'a onnx::Node, name: &str) -> Option<&'a onnx::Attribute> {
    node.attributes.iter().find(|a| a.name == name)
}

fn attr_int(node: &onnx::Node, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.int)
}

fn attr_ints(node: &onnx::Node, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

fn attr_text<'a>(node: &'a onnx::Node, name: &str, default: &'a str) -> &'a str {
    attr(node, name).map_or(default, |a| a.text.as_str())
}

fn pair(v: Option<Vec<i64>>, default: usize, what: &str) -> Result<[usize; 2]> {
    match v.as_deref() {
        None => Ok([default; 2]),
        Some(&[a, b]) if a > 0 && b > 0 => Ok([a as usize, b as usize]),
        Some(other) => Err(format!("{what} {other:?} (two positive values expected)")),
    }
}

fn quad(v: Option<Vec<i64>>) -> Result<[usize; 4]> {
    match v.as_deref() {
        None => Ok([0; 4]),
        // ONNX's order: both begins, then both ends.
        Some(&[t, l, b, r]) if t >= 0 && l >= 0 && b >= 0 && r >= 0 => {
            Ok([t as usize, l as usize, b as usize, r as usize])
        }
        Some(other) => Err(format!(
            "pads {other:?} (four values, none negative, expected)"
        )),
    }
}

impl Op {
    fn of(node: &onnx::Node) -> Result<Op> {
        let unknown = |what: String| Err(format!("{}: {what} is not supported", node.op_type));
        if !matches!(attr_text(node, "auto_pad", "NOTSET"), "NOTSET") {
            return unknown(String::from("auto_pad"));
        }
        Ok(match node.op_type.as_str() {
            "Conv" => Op::Conv(ConvSpec {
                group: attr_int(node, "group", 1).max(1) as usize,
                activation: Activation::Linear,
                pads: quad(attr_ints(node, "pads"))?,
                strides: pair(attr_ints(node, "strides"), 1, "strides")?,
                dilations: pair(attr_ints(node, "dilations"), 1, "dilations")?,
            }),
            "Relu" => Op::Relu,
            "LeakyRelu" => Op::LeakyRelu(attr(node, "alpha").map_or(0.01, |a| a.float)),
            "Sigmoid" => Op::Sigmoid,
            "Add" => Op::Add,
            "Pad" => {
                if attr_text(node, "mode", "constant") != "constant" {
                    return unknown(format!("mode {}", attr_text(node, "mode", "")));
                }
                Op::Pad
            }
            "MaxPool" => {
                if attr_int(node, "ceil_mode", 0) != 0
                    || pair(attr_ints(node, "dilations"), 1, "dilations")? != [1, 1]
                {
                    return unknown(String::from("ceil_mode or dilations"));
                }
                let Some(kernel) = attr_ints(node, "kernel_shape") else {
                    return unknown(String::from("a pool without a kernel"));
                };
                Op::MaxPool(PoolSpec {
                    kernel: pair(Some(kernel), 1, "kernel_shape")?,
                    strides: pair(attr_ints(node, "strides"), 1, "strides")?,
                    pads: quad(attr_ints(node, "pads"))?,
                })
            }
            "Concat" => Op::Concat(attr_int(node, "axis", 0)),
            "Split" => Op::Split(attr_int(node, "axis", 0)),
            "Resize" => {
                let how = (
                    attr_text(node, "mode", "nearest"),
                    attr_text(node, "coordinate_transformation_mode", "half_pixel"),
                );
                if how != ("linear", "half_pixel") || attr_int(node, "antialias", 0) != 0 {
                    return unknown(format!("{how:?}"));
                }
                Op::Resize
            }
            "Expand" => Op::Expand,
            "ScatterND" => {
                if attr_text(node, "reduction", "none") != "none" {
                    return unknown(String::from("a reduction"));
                }
                Op::ScatterNd
            }
            "Reshape" => {
                if attr_int(node, "allowzero", 0) != 0 {
                    return unknown(String::from("allowzero"));
                }
                Op::Reshape
            }
            "Transpose" => Op::Transpose(
                attr_ints(node, "perm")
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| p.max(0) as usize)
                    .collect(),
            ),
            "GlobalAveragePool" => Op::GlobalAveragePool,
            "Squeeze" => Op::Squeeze,
            "Softmax" => Op::Softmax(attr_int(node, "axis", -1)),
            "Cast" => Op::Cast(attr_int(node, "to", 0)),
            "Identity" => Op::Identity,
            other => return Err(format!("the operator {other} is not supported")),
        })
    }

    fn run(&self, inputs: &[Option<&Tensor>], scratch: &mut Vec<f32>) -> Result<Vec<Tensor>> {
        let input = |i: usize| -> Result<&Tensor> {
            inputs
                .get(i)
                .copied()
                .flatten()
                .ok_or_else(|| format!("{self:?} lacks its input {i}"))
        };
        let one = |t: Tensor| Ok(vec![t]);
        match self {
            Op::Conv(spec) => one(conv(
                input(0)?,
                input(1)?,
                inputs.get(2).copied().flatten(),
                spec,
                scratch,
            )?),
            Op::Relu => one(map(input(0)?, |v| v.max(0.0))?),
            Op::LeakyRelu(alpha) => {
                let alpha = *alpha;
                one(map(input(0)?, |v| if v < 0.0 { v * alpha } else { v })?)
            }
            Op::Sigmoid => one(map(input(0)?, |v| 1.0 / (1.0 + (-v).exp()))?),
            Op::Add => one(add(input(0)?, input(1)?)?),
            Op::Pad => one(pad(input(0)?, input(1)?, inputs.get(2).copied().flatten())?),
            Op::MaxPool(spec) => one(max_pool(input(0)?, spec)?),
            Op::Concat(axis) => {
                let parts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
                one(concat(&parts, *axis)?)
            }
            Op::Split(axis) => split(input(0)?, inputs.get(1).copied().flatten(), *axis),
            Op::Resize => one(resize(input(0)?, input(2)?)?),
            Op::Expand => one(expand(input(0)?, input(1)?)?),
            Op::ScatterNd => one(scatter_nd(input(0)?, input(1)?, input(2)?)?),
            Op::Reshape => one(reshape(input(0)?, input(1)?)?),
            Op::Transpose(perm) => one(transpose(input(0)?, perm)?),
            Op::GlobalAveragePool => one(global_average_pool(input(0)?)?),
            Op::Squeeze => one(squeeze(input(0)?, inputs.get(1).copied().flatten())?),
            Op::Softmax(axis) => one(softmax(input(0)?, *axis)?),
            Op::Cast(to) => one(cast(input(0)?, *to)?),
            Op::Identity => one(input(0)?.clone()),
        }
    }
}

fn map(x: &Tensor, f: impl Fn(f32) -> f32) -> Result<Tensor> {
    Tensor::f32(x.shape.clone(), x.values()?.iter().map(|&v| f(v)).collect())
}

/// `axis` of a rank-`rank` tensor, counting from the end when negative.
fn axis_of(axis: i64, rank: usize) -> Result<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if (0..rank as i64).contains(&a) {
        Ok(a as usize)
    } else {
        Err(format!("axis {axis} of a rank-{rank} tensor"))
    }
}

/// The shape both broadcast to (numpy's rules).
fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    (0..rank)
        .map(|i| {
            let da = if i + a.len() >= rank {
                a[i + a.len() - rank]
            } else {
                1
            };
            let db = if i + b.len() >= rank {
                b[i + b.len() - rank]
            } else {
                1
            };
            match (da, db) {
                (x, y) if x == y => Ok(x),
                (1, y) => Ok(y),
                (x, 1) => Ok(x),
                _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
            }
        })
        .collect()
}

/// For each element of a tensor of shape `to`, the index of the element of a tensor of shape
/// `from` broadcast to it.
fn broadcast_indices(from: &[usize], to: &[usize]) -> Vec<usize> {
    let rank = to.len();
    let mut strides = vec![0usize; rank];
    let mut s = 1;
    for i in (0..from.len()).rev() {
        let axis = i + rank - from.len();
        strides[axis] = if from[i] == 1 { 0 } else { s };
        s *= from[i];
    }
    strided_offsets(to, &strides)
}

/// For each element of a tensor of `shape`, in row-major order, the sum of its index along each
/// axis times that axis's stride in `strides`: where it is read from in a tensor laid out (or
/// broadcast, with strides of 0) that way.
fn strided_offsets(shape: &[usize], strides: &[usize]) -> Vec<usize> {
    let total: usize = shape.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut index = vec![0usize; shape.len()];
    let mut at = 0usize;
    for _ in 0..total {
        out.push(at);
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            at += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            at -= strides[axis] * index[axis];
            index[axis] = 0;
        }
    }
    out
}

fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    match (&a.data, &b.data) {
        (Data::F32(x), Data::F32(y)) => {
            let values = if a.shape == b.shape {
                x.iter().zip(y).map(|(p, q)| p + q).collect()
            } else {
                let (ia, ib) = (
                    broadcast_indices(&a.shape, &shape),
                    broadcast_indices(&b.shape, &shape),
                );
                ia.iter().zip(&ib).map(|(&i, &j)| x[i] + y[j]).collect()
            };
            Tensor::f32(shape, values)
        }
        (Data::I64(x), Data::I64(y)) => {
            let (ia, ib) = (
                broadcast_indices(&a.shape, &shape),
                broadcast_indices(&b.shape, &shape),
            );
            let values = ia
                .iter()
                .zip(&ib)
                .map(|(&i, &j)| x[i].wrapping_add(y[j]))
                .collect();
            Ok(Tensor::i64(shape, values))
        }
        _ => Err(String::from("Add of numbers and integers")),
    }
}

fn expand(x: &Tensor, shape: &Tensor) -> Result<Tensor> {
    let want: Vec<usize> = shape.ints()?.iter().map(|&d| d.max(0) as usize).collect();
    let out = broadcast_shape(&x.shape, &want)?;
    let at = broadcast_indices(&x.shape, &out);
    Ok(match &x.data {
        Data::F32(v) => Tensor::f32(out, at.iter().map(|&i| v[i]).collect())?,
        Data::I64(v) => Tensor::i64(out, at.iter().map(|&i| v[i]).collect()),
    })
}

fn scatter_nd(data: &Tensor, indices: &Tensor, updates: &Tensor) -> Result<Tensor> {
    let idx = indices.ints()?;
    let k = *indices.shape.last().unwrap_or(&0);
    let mut out = data.clone();
    if idx.is_empty() {
        return Ok(out);
    }
    if k == 0 || k > data.shape.len() {
        return Err(format!("ScatterND indices of depth {k}"));
    }
    let slice: usize = data.shape[k..].iter().product();
    let count = idx.len() / k;
    if updates.len() != count * slice {
        return Err(String::from("ScatterND updates of the wrong size"));
    }
    for (n, tuple) in idx.chunks(k).enumerate() {
        let mut offset = 0usize;
        for (axis, &i) in tuple.iter().enumerate() {
            let dim = data.shape[axis] as i64;
            let i = if i < 0 { i + dim } else { i };
            if !(0..dim).contains(&i) {
                return Err(String::from("ScatterND index out of range"));
            }
            offset = offset * data.shape[axis] + i as usize;
        }
        let (from, to) = (n * slice, offset * slice);
        match (&mut out.data, &updates.data) {
            (Data::F32(o), Data::F32(u)) => {
                o[to..to + slice].copy_from_slice(&u[from..from + slice])
            }
            (Data::I64(o), Data::I64(u)) => {
                o[to..to + slice].copy_from_slice(&u[from..from + slice])
            }
            _ => return Err(String::from("ScatterND of mixed types")),
        }
    }
    Ok(out)
}

fn reshape(x: &Tensor, shape: &Tensor) -> Result<Tensor> {
    let want = shape.ints()?;
    let mut dims: Vec<usize> = Vec::with_capacity(want.len());
    let mut infer = None;
    for (i, &d) in want.iter().enumerate() {
        match d {
            0 => dims.push(*x.shape.get(i).ok_or("Reshape copies a missing axis")?),
            -1 if infer.is_none() => {
                infer = Some(i);
                dims.push(1);
            }
            d if d > 0 => dims.push(d as usize),
            _ => return Err(format!("Reshape to {want:?}")),
        }
    }
    let known: usize = dims.iter().product();
    if let Some(i) = infer {
        if known == 0 || !x.len().is_multiple_of(known) {
            return Err(format!("Reshape of {:?} to {want:?}", x.shape));
        }
        dims[i] = x.len() / known;
    }
    if dims.iter().product::<usize>() != x.len() {
        return Err(format!("Reshape of {:?} to {want:?}", x.shape));
    }
    Ok(Tensor {
        shape: dims,
        data: x.data.clone(),
    })
}

fn squeeze(x: &Tensor, axes: Option<&Tensor>) -> Result<Tensor> {
    let rank = x.shape.len();
    let drop: Vec<usize> = match axes {
        Some(a) => a
            .ints()?
            .iter()
            .map(|&a| axis_of(a, rank))
            .collect::<Result<_>>()?,
        None => (0..rank).filter(|&i| x.shape[i] == 1).collect(),
    };
    if drop.iter().any(|&a| x.shape[a] != 1) {
        return Err(format!("Squeeze of axes {drop:?} of {:?}", x.shape));
    }
    Ok(Tensor {
        shape: (0..rank)
            .filter(|i| !drop.contains(i))
            .map(|i| x.shape[i])
            .collect(),
        data: x.data.clone(),
    })
}

fn cast(x: &Tensor, to: i64) -> Result<Tensor> {
    let shape = x.shape.clone();
    Ok(match (to, &x.data) {
        (1, Data::F32(_)) | (7, Data::I64(_)) => x.clone(),
        (1, Data::I64(v)) => Tensor::f32(shape, v.iter().map(|&i| i as f32).collect())?,
        (7, Data::F32(v)) => Tensor::i64(shape, v.iter().map(|&f| f as i64).collect()),
        _ => return Err(format!("Cast to type {to}")),
    })
}

/// `x` with its axes in the order `perm` (reversed when `perm` is empty).
fn transpose(x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let rank = x.shape.len();
    let perm: Vec<usize> = if perm.is_empty() {
        (0..rank).rev().collect()
    } else {
        perm.to_vec()
    };
    let mut seen = vec![false; rank];
    if perm.len() != rank
        || perm
            .iter()
            .any(|&p| p >= rank || std::mem::replace(&mut seen[p], true))
    {
        return Err(format!("Transpose of {:?} by {perm:?}", x.shape));
    }
    let mut strides = vec![1usize; rank];
    for i in (0..rank.saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * x.shape[i + 1];
    }
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
    let moved: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
    let at = strided_offsets(&shape, &moved);
    Ok(match &x.data {
        Data::F32(v) => Tensor::f32(shape, at.iter().map(|&i| v[i]).collect())?,
        Data::I64(v) => Tensor::i64(shape, at.iter().map(|&i| v[i]).collect()),
    })
}

fn pad(x: &Tensor, pads: &Tensor, value: Option<&Tensor>) -> Result<Tensor> {
    let p = pads.ints()?;
    let rank = x.shape.len();
    if p.len() != 2 * rank || p.iter().any(|&v| v < 0) {
        return Err(format!("Pad by {p:?} of {:?}", x.shape));
    }
    let fill = match value {
        Some(v) => *v.values()?.first().unwrap_or(&0.0),
        None => 0.0,
    };
    let begin: Vec<usize> = p[..rank].iter().map(|&v| v as usize).collect();
    let shape: Vec<usize> = (0..rank)
        .map(|i| x.shape[i] + begin[i] + p[rank + i] as usize)
        .collect();
    let v = x.values()?;
    let mut out = vec![fill; shape.iter().product()];
    if rank == 0 || v.is_empty() {
        return Tensor::f32(shape, out);
    }
    // Copy the input row by row (its last axis) into place.
    let row = x.shape[rank - 1];
    let rows = v.len() / row;
    let mut index = vec![0usize; rank - 1];
    for r in 0..rows {
        let mut offset = 0usize;
        for axis in 0..rank - 1 {
            offset = offset * shape[axis] + index[axis] + begin[axis];
        }
        offset = offset * shape[rank - 1] + begin[rank - 1];
        out[offset..offset + row].copy_from_slice(&v[r * row..(r + 1) * row]);
        for axis in (0..rank - 1).rev() {
            index[axis] += 1;
            if index[axis] < x.shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    Tensor::f32(shape, out)
}

/// `[n, c, h, w]` of a rank-4 tensor.
fn nchw(x: &Tensor, what: &str) -> Result<[usize; 4]> {
    match x.shape.as_slice() {
        &[n, c, h, w] => Ok([n, c, h, w]),
        other => Err(format!("{what} of a {other:?} tensor (four axes expected)")),
    }
}

/// The output side of a window of `k` (dilated) with `stride` over `side` padded by `pads`.
fn out_side(side: usize, pads: usize, k: usize, stride: usize) -> Result<usize> {
    (side + pads)
        .checked_sub(k)
        .map(|s| s / stride + 1)
        .ok_or_else(|| format!("a window of {k} over {side}"))
}

fn max_pool(x: &Tensor, spec: &PoolSpec) -> Result<Tensor> {
    let [n, c, h, w] = nchw(x, "MaxPool")?;
    let [kh, kw] = spec.kernel;
    let [sh, sw] = spec.strides;
    let [pt, pl, pb, pr] = spec.pads;
    let (oh, ow) = (out_side(h, pt + pb, kh, sh)?, out_side(w, pl + pr, kw, sw)?);
    let v = x.values()?;
    // Each output's taps inside the input, along each axis.
    let ranges =
        |out: usize, side: usize, stride: usize, pad: usize, k: usize| -> Vec<(usize, usize)> {
            (0..out)
                .map(|o| {
                    let start = (o * stride) as isize - pad as isize;
                    let from = start.max(0) as usize;
                    let to = ((start + k as isize).max(0) as usize).min(side);
                    (from, to.max(from))
                })
                .collect()
        };
    let (ys, xs) = (ranges(oh, h, sh, pt, kh), ranges(ow, w, sw, pl, kw));
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for plane in v.chunks_exact(h * w) {
        for &(y0, y1) in &ys {
            for &(x0, x1) in &xs {
                let mut best = f32::NEG_INFINITY;
                for line in plane[y0 * w..y1 * w].chunks_exact(w) {
                    for &value in &line[x0..x1] {
                        best = best.max(value);
                    }
                }
                out.push(best);
            }
        }
    }
    Tensor::f32(vec![n, c, oh, ow], out)
}

fn global_average_pool(x: &Tensor) -> Result<Tensor> {
    let [n, c, h, w] = nchw(x, "GlobalAveragePool")?;
    let v = x.values()?;
    let area = (h * w).max(1);
    let out = v
        .chunks_exact(area)
        .map(|p| p.iter().sum::<f32>() / area as f32)
        .collect();
    Tensor::f32(vec![n, c, 1, 1], out)
}

fn softmax(x: &Tensor, axis: i64) -> Result<Tensor> {
    let axis = axis_of(axis, x.shape.len())?;
    let (len, inner) = (x.shape[axis], x.shape[axis + 1..].iter().product::<usize>());
    let mut out = x.values()?.to_vec();
    for block in out.chunks_exact_mut((len * inner).max(1)) {
        for i in 0..inner {
            let top = (0..len)
                .map(|k| block[k * inner + i])
                .fold(f32::MIN, f32::max);
            let mut total = 0.0;
            for k in 0..len {
                let e = (block[k * inner + i] - top).exp();
                block[k * inner + i] = e;
                total += e;
            }
            for k in 0..len {
                block[k * inner + i] /= total;
            }
        }
    }
    Tensor::f32(x.shape.clone(), out)
}

fn concat(parts: &[&Tensor], axis: i64) -> Result<Tensor> {
    let first = parts.first().ok_or("Concat of nothing")?;
    let axis = axis_of(axis, first.shape.len())?;
    let outer: usize = first.shape[..axis].iter().product();
    for p in parts {
        if p.shape.len() != first.shape.len()
            || (0..p.shape.len()).any(|i| i != axis && p.shape[i] != first.shape[i])
        {
            return Err(format!("Concat of {:?} and {:?}", first.shape, p.shape));
        }
    }
    let mut shape = first.shape.clone();
    shape[axis] = parts.iter().map(|p| p.shape[axis]).sum();
    let mut out = Vec::with_capacity(shape.iter().product());
    let chunks: Vec<(&[f32], usize)> = parts
        .iter()
        .map(|p| Ok((p.values()?, p.len() / outer.max(1))))
        .collect::<Result<_>>()?;
    for o in 0..outer {
        for (v, chunk) in &chunks {
            out.extend_from_slice(&v[o * chunk..(o + 1) * chunk]);
        }
    }
    Tensor::f32(shape, out)
}

fn split(x: &Tensor, sizes: Option<&Tensor>, axis: i64) -> Result<Vec<Tensor>> {
    let axis = axis_of(axis, x.shape.len())?;
    let sizes: Vec<usize> = match sizes {
        Some(s) => s.ints()?.iter().map(|&v| v.max(0) as usize).collect(),
        None => return Err(String::from("Split without its sizes")),
    };
    if sizes.iter().sum::<usize>() != x.shape[axis] {
        return Err(format!("Split of {:?} into {sizes:?}", x.shape));
    }
    let outer: usize = x.shape[..axis].iter().product();
    let inner: usize = x.shape[axis + 1..].iter().product();
    let v = x.values()?;
    let row = x.shape[axis] * inner;
    let mut start = 0;
    sizes
        .iter()
        .map(|&size| {
            let mut out = Vec::with_capacity(outer * size * inner);
            for o in 0..outer {
                let from = o * row + start * inner;
                out.extend_from_slice(&v[from..from + size * inner]);
            }
            start += size;
            let mut shape = x.shape.clone();
            shape[axis] = size;
            Tensor::f32(shape, out)
        })
        .collect()
}

/// Bilinear resize of the last two axes by `scales` (`[1, 1, sy, sx]`), half-pixel centres,
/// positions clamped to the edge (as onnxruntime does).
fn resize(x: &Tensor, scales: &Tensor) -> Result<Tensor> {
    let [n, c, h, w] = nchw(x, "Resize")?;
    let s = scales.values()?;
    let &[1.0, 1.0, sy, sx] = s else {
        return Err(format!("Resize by {s:?} (only height and width)"));
    };
    if !(sy > 0.0 && sx > 0.0) {
        return Err(format!("Resize by {s:?}"));
    }
    let (oh, ow) = (
        (h as f32 * sy).floor() as usize,
        (w as f32 * sx).floor() as usize,
    );
    let taps = |out: usize, side: usize, scale: f32| -> Vec<(usize, usize, f32)> {
        (0..out)
            .map(|o| {
                let at = ((o as f32 + 0.5) / scale - 0.5).clamp(0.0, (side - 1) as f32);
                let i0 = at as usize;
                let i1 = (i0 + 1).min(side - 1);
                (i0, i1, at - i0 as f32)
            })
            .collect()
    };
    let (ys, xs) = (taps(oh, h, sy), taps(ow, w, sx));
    let v = x.values()?;
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for plane in v.chunks_exact(h * w) {
        for &(y0, y1, fy) in &ys {
            let (top, bottom) = (&plane[y0 * w..(y0 + 1) * w], &plane[y1 * w..(y1 + 1) * w]);
            for &(x0, x1, fx) in &xs {
                let t = top[x0] + (top[x1] - top[x0]) * fx;
                let b = bottom[x0] + (bottom[x1] - bottom[x0]) * fx;
                out.push(t + (b - t) * fy);
            }
        }
    }
    Tensor::f32(vec![n, c, oh, ow], out)
}

/// A 2-D convolution, NCHW, grouped: each group a matrix product (the weights by the input
/// unfolded into columns), one output channel per input channel (depthwise) directly.
fn conv(
    x: &Tensor,
    weights: &Tensor,
    bias: Option<&Tensor>,
    spec: &ConvSpec,
    columns: &mut Vec<f32>,
) -> Result<Tensor> {
    let [n, c, h, w] = nchw(x, "Conv")?;
    let [m, cg, kh, kw] = nchw(weights, "Conv weights")?;
    let g = spec.group;
    if c != cg * g || m % g != 0 {
        return Err(format!(
            "Conv of {:?} by {:?} in {g} groups",
            x.shape, weights.shape
        ));
    }
    let [pt, pl, pb, pr] = spec.pads;
    let [sh, sw] = spec.strides;
    let [dh, dw] = spec.dilations;
    let (oh, ow) = (
        out_side(h, pt + pb, (kh - 1) * dh + 1, sh)?,
        out_side(w, pl + pr, (kw - 1) * dw + 1, sw)?,
    );
    let mg = m / g;
    let (area, out_area, k) = (h * w, oh * ow, cg * kh * kw);
    let (v, wv) = (x.values()?, weights.values()?);
    let b = match bias {
        Some(b) if b.len() == m => Some(b.values()?),
        Some(b) => return Err(format!("Conv bias of {:?} for {m} outputs", b.shape)),
        None => None,
    };
    let mut out = vec![0.0f32; n * m * out_area];
    let plain = kh == 1 && kw == 1 && sh == 1 && sw == 1 && spec.pads == [0; 4];
    let depthwise = cg == 1 && mg == 1;
    if !(plain || depthwise) && columns.len() < k * out_area {
        columns.resize(k * out_area, 0.0);
    }
    for image in 0..n {
        for group in 0..g {
            let input = &v[(image * c + group * cg) * area..(image * c + (group + 1) * cg) * area];
            let filters = &wv[group * mg * k..(group + 1) * mg * k];
            let target = &mut out
                [(image * m + group * mg) * out_area..(image * m + (group + 1) * mg) * out_area];
            if depthwise {
                self::depthwise(input, [h, w], filters, [kh, kw], spec, [oh, ow], target);
            } else if plain {
                gemm(mg, k, out_area, filters, input, target);
            } else {
                unfold(input, [cg, h, w], [kh, kw], spec, [oh, ow], columns);
                gemm(mg, k, out_area, filters, columns, target);
            }
        }
        let planes = &mut out[image * m * out_area..(image + 1) * m * out_area];
        for (channel, plane) in planes.chunks_exact_mut(out_area).enumerate() {
            let bias = b.map_or(0.0, |b| b[channel]);
            match spec.activation {
                Activation::Linear => plane.iter_mut().for_each(|o| *o += bias),
                Activation::Relu => plane.iter_mut().for_each(|o| *o = (*o + bias).max(0.0)),
                Activation::Leaky(alpha) => plane.iter_mut().for_each(|o| {
                    let v = *o + bias;
                    *o = if v < 0.0 { v * alpha } else { v };
                }),
            }
        }
    }
    Tensor::f32(vec![n, m, oh, ow], out)
}

/// `c = a b` for row-major `a` (m x k), `b` (k x n), `c` (m x n).
fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the three slices hold the matrices the strides describe (checked above), and `c`
    // is borrowed mutably, so it overlaps neither `a` nor `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// The input's windows as columns (im2col): row `(channel, ky, kx)`, column `(oy, ox)`.
fn unfold(
    input: &[f32],
    [c, h, w]: [usize; 3],
    [kh, kw]: [usize; 2],
    spec: &ConvSpec,
    [oh, ow]: [usize; 2],
    columns: &mut [f32],
) {
    let [pt, pl, _, _] = spec.pads;
    let [sh, sw] = spec.strides;
    let [dh, dw] = spec.dilations;
    let mut rows = columns.chunks_exact_mut(oh * ow);
    for channel in 0..c {
        let plane = &input[channel * h * w..(channel + 1) * h * w];
        for ky in 0..kh {
            for kx in 0..kw {
                let Some(row) = rows.next() else { return };
                let x0 = (kx * dw) as isize - pl as isize;
                let (first, end) = inside(x0, w, sw, ow);
                for oy in 0..oh {
                    let line = &mut row[oy * ow..(oy + 1) * ow];
                    let y = (oy * sh + ky * dh) as isize - pt as isize;
                    if y < 0 || y >= h as isize || first >= end {
                        line.fill(0.0);
                        continue;
                    }
                    let src = &plane[y as usize * w..(y as usize + 1) * w];
                    line[..first].fill(0.0);
                    line[end..].fill(0.0);
                    let from = (x0 + (first * sw) as isize) as usize;
                    if sw == 1 {
                        line[first..end].copy_from_slice(&src[from..from + end - first]);
                    } else {
                        for (o, s) in line[first..end]
                            .iter_mut()
                            .zip(src[from..].iter().step_by(sw))
                        {
                            *o = *s;
                        }
                    }
                }
            }
        }
    }
}

/// The outputs `first..end` of a row of `out` whose tap, at `x0 + ox * stride`, lands inside a
/// row of `w`.
fn inside(x0: isize, w: usize, stride: usize, out: usize) -> (usize, usize) {
    let first = if x0 < 0 {
        (-x0 as usize).div_ceil(stride)
    } else {
        0
    };
    let end = if (w as isize) > x0 {
        ((w as isize - x0) as usize).div_ceil(stride).min(out)
    } else {
        0
    };
    (first.min(end), end)
}

/// One channel convolved with its own kernel.
fn depthwise(
    plane: &[f32],
    [h, w]: [usize; 2],
    kernel: &[f32],
    [kh, kw]: [usize; 2],
    spec: &ConvSpec,
    [oh, ow]: [usize; 2],
    out: &mut [f32],
) {
    let [pt, pl, _, _] = spec.pads;
    let [sh, sw] = spec.strides;
    let [dh, dw] = spec.dilations;
    for ky in 0..kh {
        for kx in 0..kw {
            let weight = kernel[ky * kw + kx];
            let x0 = (kx * dw) as isize - pl as isize;
            let (first, end) = inside(x0, w, sw, ow);
            for oy in 0..oh {
                let y = (oy * sh + ky * dh) as isize - pt as isize;
                if y < 0 || y >= h as isize || first >= end {
                    continue;
                }
                let src = &plane[y as usize * w..(y as usize + 1) * w];
                let line = &mut out[oy * ow..(oy + 1) * ow];
                let from = (x0 + (first * sw) as isize) as usize;
                if sw == 1 {
                    for (o, s) in line[first..end]
                        .iter_mut()
                        .zip(&src[from..from + end - first])
                    {
                        *o += weight * s;
                    }
                } else {
                    for (o, s) in line[first..end]
                        .iter_mut()
                        .zip(src[from..].iter().step_by(sw))
                    {
                        *o += weight * s;
                    }
                }
            }
        }
    }
}

/// The little of ONNX's protobuf format the models need: the graph's nodes with their
/// attributes, the initializers (float32, float16, int64), the inputs' and outputs' names.
mod onnx {
    use super::{Result, Tensor};

    pub struct Graph {
        pub nodes: Vec<Node>,
        pub initializers: Vec<(String, Tensor)>,
        pub inputs: Vec<String>,
        pub outputs: Vec<String>,
    }

    pub struct Node {
        pub name: String,
        pub op_type: String,
        pub inputs: Vec<String>,
        pub outputs: Vec<String>,
        pub attributes: Vec<Attribute>,
    }

    #[derive(Default)]
    pub struct Attribute {
        pub name: String,
        pub float: f32,
        pub int: i64,
        pub ints: Vec<i64>,
        pub text: String,
    }

    enum Field<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
        Fixed32(u32),
        Fixed64,
    }

    struct Reader<'a> {
        buf: &'a [u8],
    }

    impl<'a> Reader<'a> {
        fn varint(&mut self) -> Result<u64> {
            let mut value = 0u64;
            for shift in (0..64).step_by(7) {
                let (&byte, rest) = self
                    .buf
                    .split_first()
                    .ok_or("the model file is cut short")?;
                self.buf = rest;
                value |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    return Ok(value);
                }
            }
            Err(String::from("the model file has a malformed number"))
        }

        fn take(&mut self, n: usize) -> Result<&'a [u8]> {
            if n > self.buf.len() {
                return Err(String::from("the model file is cut short"));
            }
            let (head, rest) = self.buf.split_at(n);
            self.buf = rest;
            Ok(head)
        }

        /// The next field: its number and value.
        fn field(&mut self) -> Result<Option<(u64, Field<'a>)>> {
            if self.buf.is_empty() {
                return Ok(None);
            }
            let key = self.varint()?;
            let value = match key & 7 {
                0 => Field::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Field::Fixed64
                }
                2 => {
                    let n = self.varint()? as usize;
                    Field::Bytes(self.take(n)?)
                }
                5 => {
                    let b = self.take(4)?;
                    Field::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                }
                t => return Err(format!("the model file has a field of wire type {t}")),
            };
            Ok(Some((key >> 3, value)))
        }
    }

    fn fields<'a>(buf: &'a [u8], mut each: impl FnMut(u64, Field<'a>) -> Result<()>) -> Result<()> {
        let mut r = Reader { buf };
        while let Some((number, value)) = r.field()? {
            each(number, value)?;
        }
        Ok(())
    }

    fn text(value: Field<'_>) -> Result<String> {
        match value {
            Field::Bytes(b) => String::from_utf8(b.to_vec())
                .map_err(|_| String::from("the model file has a name that is not text")),
            _ => Err(String::from("the model file has a malformed name")),
        }
    }

    /// Repeated integers, packed or not.
    fn push_ints(value: Field<'_>, into: &mut Vec<i64>) -> Result<()> {
        match value {
            Field::Varint(v) => into.push(v as i64),
            Field::Bytes(b) => {
                let mut r = Reader { buf: b };
                while !r.buf.is_empty() {
                    into.push(r.varint()? as i64);
                }
            }
            _ => return Err(String::from("the model file has malformed integers")),
        }
        Ok(())
    }

    fn push_floats(value: Field<'_>, into: &mut Vec<f32>) -> Result<()> {
        match value {
            Field::Fixed32(v) => into.push(f32::from_bits(v)),
            Field::Bytes(b) if b.len() % 4 == 0 => into.extend(
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
            _ => return Err(String::from("the model file has malformed numbers")),
        }
        Ok(())
    }

    /// An IEEE half-precision float's value.
    pub fn f16_to_f32(h: u16) -> f32 {
        let sign = u32::from(h & 0x8000) << 16;
        let exponent = u32::from((h >> 10) & 0x1f);
        let fraction = u32::from(h & 0x3ff);
        let magnitude = match exponent {
            // Subnormal: fraction x 2^-24, exact in f32.
            0 => {
                let v = fraction as f32 * f32::from_bits(0x3380_0000);
                return if sign != 0 { -v } else { v };
            }
            31 => 0x7f80_0000 | (fraction << 13),
            e => ((e + 112) << 23) | (fraction << 13),
        };
        f32::from_bits(sign | magnitude)
    }

    fn tensor(buf: &[u8]) -> Result<(String, Tensor)> {
        let (mut dims, mut kind, mut name) = (Vec::new(), 0u64, String::new());
        let (mut floats, mut ints, mut int32s, mut raw) =
            (Vec::new(), Vec::new(), Vec::new(), None);
        fields(buf, |number, value| {
            match number {
                1 => push_ints(value, &mut dims)?,
                2 => {
                    if let Field::Varint(v) = value {
                        kind = v;
                    }
                }
                4 => push_floats(value, &mut floats)?,
                5 => push_ints(value, &mut int32s)?,
                7 => push_ints(value, &mut ints)?,
                8 => name = text(value)?,
                9 => {
                    if let Field::Bytes(b) = value {
                        raw = Some(b);
                    }
                }
                13 | 14 => return Err(String::from("the model keeps its weights in another file")),
                _ => {}
            }
            Ok(())
        })?;
        if dims.iter().any(|&d| d < 0) {
            return Err(format!("the tensor {name} has a negative size"));
        }
        let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
        let count: usize = shape.iter().product();
        let wrong = || format!("the tensor {name} does not hold {count} values");
        let tensor = match (kind, raw) {
            (1, Some(b)) => {
                let mut v = Vec::new();
                push_floats(Field::Bytes(b), &mut v).map_err(|_| wrong())?;
                Tensor::f32(shape, v)?
            }
            (1, None) => Tensor::f32(shape, floats)?,
            (10, Some(b)) if b.len() == 2 * count => Tensor::f32(
                shape,
                b.chunks_exact(2)
                    .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                    .collect(),
            )?,
            (10, None) => Tensor::f32(
                shape,
                int32s.iter().map(|&v| f16_to_f32(v as u16)).collect(),
            )?,
            (7, Some(b)) if b.len() == 8 * count => Tensor::i64(
                shape,
                b.chunks_exact(8)
                    .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
            ),
            (7, None) if ints.len() == count => Tensor::i64(shape, ints),
            (7 | 10, _) => return Err(wrong()),
            (other, _) => return Err(format!("the tensor {name} is of type {other}")),
        };
        if tensor.len() != count {
            return Err(wrong());
        }
        Ok((name, tensor))
    }

    fn attribute(buf: &[u8]) -> Result<Attribute> {
        let mut a = Attribute::default();
        fields(buf, |number, value| {
            match (number, value) {
                (1, v) => a.name = text(v)?,
                (2, Field::Fixed32(v)) => a.float = f32::from_bits(v),
                (3, Field::Varint(v)) => a.int = v as i64,
                (4, v) => a.text = text(v)?,
                (8, v) => push_ints(v, &mut a.ints)?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(a)
    }

    fn node(buf: &[u8]) -> Result<Node> {
        let mut n = Node {
            name: String::new(),
            op_type: String::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            attributes: Vec::new(),
        };
        let mut domain = String::new();
        fields(buf, |number, value| {
            match (number, value) {
                (1, v) => n.inputs.push(text(v)?),
                (2, v) => n.outputs.push(text(v)?),
                (3, v) => n.name = text(v)?,
                (4, v) => n.op_type = text(v)?,
                (5, Field::Bytes(b)) => n.attributes.push(attribute(b)?),
                (7, v) => domain = text(v)?,
                _ => {}
            }
            Ok(())
        })?;
        if !domain.is_empty() && domain != "ai.onnx" {
            return Err(format!(
                "the operator {}.{} is not supported",
                domain, n.op_type
            ));
        }
        Ok(n)
    }

    /// A value's name (ValueInfoProto's first field).
    fn value_name(buf: &[u8]) -> Result<String> {
        let mut name = String::new();
        fields(buf, |number, value| {
            if number == 1 {
                name = text(value)?;
            }
            Ok(())
        })?;
        Ok(name)
    }

    pub fn read_model(bytes: &[u8]) -> Result<Graph> {
        let mut graph = None;
        fields(bytes, |number, value| {
            if let (7, Field::Bytes(b)) = (number, value) {
                graph = Some(b);
            }
            Ok(())
        })?;
        let graph = graph.ok_or("the file holds no ONNX graph")?;
        let mut g = Graph {
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        fields(graph, |number, value| {
            match (number, value) {
                (1, Field::Bytes(b)) => g.nodes.push(node(b)?),
                (5, Field::Bytes(b)) => g.initializers.push(tensor(b)?),
                (11, Field::Bytes(b)) => g.inputs.push(value_name(b)?),
                (12, Field::Bytes(b)) => g.outputs.push(value_name(b)?),
                _ => {}
            }
            Ok(())
        })?;
        if g.nodes.is_empty() {
            return Err(String::from("the model has no operators"));
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain convolution, one output at a time, for comparison.
    #[allow(clippy::too_many_arguments)]
    fn naive_conv(
        x: &[f32],
        [c, h, w]: [usize; 3],
        wt: &[f32],
        [m, kh, kw]: [usize; 3],
        g: usize,
        [pt, pl]: [usize; 2],
        [sh, sw]: [usize; 2],
        [dh, dw]: [usize; 2],
        [oh, ow]: [usize; 2],
    ) -> Vec<f32> {
        let (cg, mg) = (c / g, m / g);
        let mut out = vec![0.0; m * oh * ow];
        for o in 0..m {
            let group = o / mg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = 0.0;
                    for ci in 0..cg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let y = (oy * sh + ky * dh) as isize - pt as isize;
                                let xx = (ox * sw + kx * dw) as isize - pl as isize;
                                if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                    let input =
                                        x[((group * cg + ci) * h + y as usize) * w + xx as usize];
                                    sum += input * wt[((o * cg + ci) * kh + ky) * kw + kx];
                                }
                            }
                        }
                    }
                    out[(o * oh + oy) * ow + ox] = sum;
                }
            }
        }
        out
    }

    fn pattern(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i + seed) * 7919) % 1001) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn convolutions_of_every_kind_match_the_definition() {
        // (channels, size, outputs, kernel, groups, pads (top, left, bottom, right), strides,
        // dilations): plain 1 x 1, unfolded 3 x 3 and 5 x 5 with odd pads, strides and
        // dilations, grouped, depthwise with stride 2.
        let cases = [
            (8, [9, 7], 6, [1, 1], 1, [0, 0, 0, 0], [1, 1], [1, 1]),
            (3, [11, 10], 5, [3, 3], 1, [1, 1, 1, 1], [1, 1], [1, 1]),
            (4, [12, 9], 4, [3, 3], 1, [0, 0, 1, 1], [2, 2], [1, 1]),
            (4, [10, 10], 6, [5, 5], 2, [1, 2, 2, 1], [1, 2], [1, 1]),
            (5, [13, 12], 5, [3, 3], 5, [1, 1, 1, 1], [2, 2], [1, 1]),
            (6, [9, 9], 6, [5, 5], 6, [2, 2, 2, 2], [1, 1], [1, 1]),
            (2, [12, 12], 3, [3, 3], 1, [2, 2, 2, 2], [1, 1], [2, 2]),
        ];
        for (case, (c, [h, w], m, [kh, kw], g, pads, strides, dilations)) in
            cases.into_iter().enumerate()
        {
            let x = pattern(c * h * w, case);
            let wt = pattern(m * (c / g) * kh * kw, 100 + case);
            let bias = pattern(m, 200 + case);
            let spec = ConvSpec {
                group: g,
                activation: Activation::Leaky(0.1),
                pads,
                strides,
                dilations,
            };
            let out = conv(
                &Tensor::f32(vec![1, c, h, w], x.clone()).unwrap(),
                &Tensor::f32(vec![m, c / g, kh, kw], wt.clone()).unwrap(),
                Some(&Tensor::f32(vec![m], bias.clone()).unwrap()),
                &spec,
                &mut Vec::new(),
            )
            .unwrap();
            let [_, _, oh, ow] = nchw(&out, "").unwrap();
            let want = naive_conv(
                &x,
                [c, h, w],
                &wt,
                [m, kh, kw],
                g,
                [pads[0], pads[1]],
                strides,
                dilations,
                [oh, ow],
            );
            assert_eq!(
                [oh, ow],
                [
                    (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1,
                    (w + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1
                ],
                "case {case}"
            );
            for (i, (o, want)) in out.values().unwrap().iter().zip(&want).enumerate() {
                let v = want + bias[i / (oh * ow)];
                let v = if v < 0.0 { v * 0.1 } else { v };
                assert!((o - v).abs() < 1e-4, "case {case} at {i}: {o} against {v}");
            }
        }
    }

    #[test]
    fn pooling_resizing_and_padding_match_the_definitions() {
        let x = Tensor::f32(vec![1, 1, 3, 4], pattern(12, 0)).unwrap();
        let v = x.values().unwrap().to_vec();
        // A 3 x 3 max pool, stride 2, padded by 1: each output the largest of its window.
        let pooled = max_pool(
            &x,
            &PoolSpec {
                kernel: [3, 3],
                strides: [2, 2],
                pads: [1, 1, 1, 1],
            },
        )
        .unwrap();
        assert_eq!(pooled.shape, [1, 1, 2, 2]);
        let at = |y: usize, x: usize| v[y * 4 + x];
        let window = |ys: std::ops::Range<usize>, xs: std::ops::Range<usize>| {
            ys.flat_map(|y| xs.clone().map(move |x| (y, x)))
                .map(|(y, x)| at(y, x))
                .fold(f32::MIN, f32::max)
        };
        assert_eq!(
            pooled.values().unwrap(),
            [
                window(0..2, 0..2),
                window(0..2, 1..4),
                window(1..3, 0..2),
                window(1..3, 1..4)
            ]
        );
        // Doubling, half-pixel centres: the first and last columns repeat the edge.
        let scales = Tensor::f32(vec![4], vec![1.0, 1.0, 2.0, 2.0]).unwrap();
        let up = resize(&x, &scales).unwrap();
        assert_eq!(up.shape, [1, 1, 6, 8]);
        let u = up.values().unwrap();
        assert_eq!(u[0], at(0, 0));
        assert!((u[1] - (0.75 * at(0, 0) + 0.25 * at(0, 1))).abs() < 1e-6);
        assert_eq!(u[7], at(0, 3));
        // Halving averages each 2 x 2 block.
        let half = Tensor::f32(vec![4], vec![1.0, 1.0, 0.5, 0.5]).unwrap();
        let x4 = Tensor::f32(vec![1, 1, 4, 4], pattern(16, 3)).unwrap();
        let down = resize(&x4, &half).unwrap();
        let d = x4.values().unwrap();
        assert!((down.values().unwrap()[0] - (d[0] + d[1] + d[4] + d[5]) / 4.0).abs() < 1e-6);
        // Padding the channels (as BlazeFace's shortcuts do) by 2 at the end, with zeros.
        let pads = Tensor::i64(vec![8], vec![0, 0, 0, 0, 0, 2, 0, 0]);
        let padded = pad(&x, &pads, None).unwrap();
        assert_eq!(padded.shape, [1, 3, 3, 4]);
        assert_eq!(&padded.values().unwrap()[..12], v.as_slice());
        assert!(padded.values().unwrap()[12..].iter().all(|&p| p == 0.0));
    }

    #[test]
    fn half_floats_read_exactly() {
        for (bits, value) in [
            (0x3c00u16, 1.0f32),
            (0xc000, -2.0),
            (0x3555, 0.333_251_95),
            (0x7bff, 65504.0),
            (0x0001, 5.960_464_5e-8),
            (0x8400, -6.103_515_6e-5),
            (0x0000, 0.0),
        ] {
            assert_eq!(onnx::f16_to_f32(bits), value, "{bits:#06x}");
        }
        assert_eq!(onnx::f16_to_f32(0x7c00), f32::INFINITY);
        assert!(onnx::f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn a_damaged_model_is_an_error_not_a_crash() {
        let model = include_bytes!("../../models/emotion.onnx");
        // Cut short anywhere, or with bytes changed, it is refused or runs; it never panics.
        for cut in [
            0,
            1,
            2,
            7,
            100,
            1000,
            model.len() / 3,
            model.len() / 2,
            model.len() - 1,
        ] {
            assert!(Net::load(&model[..cut]).is_err(), "cut at {cut}");
        }
        let mut damaged = model.to_vec();
        for i in (0..damaged.len()).step_by(997) {
            damaged[i] ^= 0x5a;
        }
        if let Ok(net) = Net::load(&damaged) {
            let _ = net.run(Tensor::f32(vec![1, 64, 64, 1], pattern(4096, 0)).unwrap());
        }
        assert!(Net::load(b"not a model at all").is_err());
        // A wrong input is an error too.
        let net = Net::load(model).unwrap();
        assert!(net
            .run(Tensor::f32(vec![1, 3, 5, 5], vec![0.0; 75]).unwrap())
            .is_err());
    }
}
