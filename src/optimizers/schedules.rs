//! Learning-rate schedules (MLX's `mlx.optimizers.schedulers`): functions of the step array
//! (uint32 scalar) returning the rate, evaluated lazily like any op.

use crate::array::Array;
use crate::dtype::Dtype;
use crate::error::{Result, value_err};
use std::sync::Arc;

/// A learning-rate schedule: the rate at a step.
pub type Schedule = Arc<dyn Fn(&Array) -> Result<Array> + Send + Sync>;

fn f32_of(step: &Array) -> Result<Array> {
    crate::astype(step, Dtype::Float32, None)
}

/// `init · decay_rateˢᵗᵉᵖ`.
///
/// ```
/// let s = wmx::optimizers::exponential_decay(0.1, 0.5);
/// assert!((s(&wmx::Array::scalar(2u32)).unwrap().item::<f32>().unwrap() - 0.025).abs() < 1e-7);
/// ```
pub fn exponential_decay(init: f32, decay_rate: f32) -> Schedule {
    Arc::new(move |step| {
        crate::multiply(&crate::power(decay_rate, &f32_of(step)?, None)?, init, None)
    })
}

/// `init · decay_rate^⌊step / step_size⌋`.
///
/// ```
/// let s = wmx::optimizers::step_decay(0.1, 0.9, 10).unwrap();
/// assert!((s(&wmx::Array::scalar(21u32)).unwrap().item::<f32>().unwrap() - 0.081).abs() < 1e-7);
/// assert!(wmx::optimizers::step_decay(0.1, 0.9, 0).is_err());
/// ```
pub fn step_decay(init: f32, decay_rate: f32, step_size: u32) -> Result<Schedule> {
    if step_size < 1 {
        return Err(value_err(
            "step_decay",
            format!("step_size must be greater than 0, but got {step_size}."),
        ));
    }
    Ok(Arc::new(move |step| {
        let k = f32_of(&crate::floor_divide(step, step_size, None)?)?;
        crate::multiply(&crate::power(decay_rate, &k, None)?, init, None)
    }))
}

/// Cosine decay from `init` to `end` over `decay_steps`, then `end`.
///
/// ```
/// let s = wmx::optimizers::cosine_decay(0.1, 100, 0.0).unwrap();
/// assert!((s(&wmx::Array::scalar(50u32)).unwrap().item::<f32>().unwrap() - 0.05).abs() < 1e-6);
/// assert!(s(&wmx::Array::scalar(500u32)).unwrap().item::<f32>().unwrap().abs() < 1e-7);
/// ```
pub fn cosine_decay(init: f32, decay_steps: u32, end: f32) -> Result<Schedule> {
    if decay_steps < 1 {
        return Err(value_err(
            "cosine_decay",
            format!("decay_steps must be greater than 0, but got {decay_steps}."),
        ));
    }
    Ok(Arc::new(move |step| {
        let s = crate::minimum(&f32_of(step)?, decay_steps as f32, None)?;
        let c = crate::cos(
            &crate::multiply(&s, std::f32::consts::PI / decay_steps as f32, None)?,
            None,
        )?;
        let decay = crate::multiply(&crate::add(&c, 1.0, None)?, 0.5, None)?;
        crate::add(&crate::multiply(&decay, init - end, None)?, end, None)
    }))
}

/// Linear from `init` to `end` over `steps`, then `end` (MLX's `linear_schedule`, the usual
/// warm-up).
///
/// ```
/// let s = wmx::optimizers::linear_schedule(0.0, 0.1, 10).unwrap();
/// assert!((s(&wmx::Array::scalar(5u32)).unwrap().item::<f32>().unwrap() - 0.05).abs() < 1e-7);
/// ```
pub fn linear_schedule(init: f32, end: f32, steps: u32) -> Result<Schedule> {
    if steps < 1 {
        return Err(value_err(
            "linear_schedule",
            format!("steps must be greater than 0, but got {steps}."),
        ));
    }
    Ok(Arc::new(move |step| {
        let s = crate::minimum(&f32_of(step)?, steps as f32, None)?;
        crate::add(
            &crate::multiply(&s, (end - init) / steps as f32, None)?,
            init,
            None,
        )
    }))
}

/// Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` counted from that
/// boundary, and so on (MLX's `join_schedules`).
///
/// ```
/// use wmx::optimizers::{cosine_decay, join_schedules, linear_schedule};
/// let warm = linear_schedule(0.0, 0.1, 10).unwrap();
/// let s = join_schedules(vec![warm, cosine_decay(0.1, 100, 0.0).unwrap()], &[10]).unwrap();
/// assert!((s(&wmx::Array::scalar(10u32)).unwrap().item::<f32>().unwrap() - 0.1).abs() < 1e-7);
/// assert!(join_schedules(vec![], &[]).is_err());
/// ```
pub fn join_schedules(schedules: Vec<Schedule>, boundaries: &[u32]) -> Result<Schedule> {
    if schedules.is_empty() {
        return Err(value_err(
            "join_schedules",
            "Must provide at least 1 schedule to join.",
        ));
    }
    if schedules.len() != boundaries.len() + 1 {
        return Err(value_err(
            "join_schedules",
            format!(
                "Received {} boundaries but expected {}.",
                boundaries.len(),
                schedules.len() - 1
            ),
        ));
    }
    let boundaries = boundaries.to_vec();
    Ok(Arc::new(move |step| {
        let mut out = schedules[0](step)?;
        for (b, s) in boundaries.iter().zip(&schedules[1..]) {
            let shifted = crate::subtract(&f32_of(step)?, *b as f32, None)?;
            let shifted =
                crate::astype(&crate::maximum(&shifted, 0.0, None)?, Dtype::Uint32, None)?;
            let later = s(&shifted)?;
            out = crate::where_(&crate::less(step, *b, None)?, &out, &later, None)?;
        }
        Ok(out)
    }))
}
