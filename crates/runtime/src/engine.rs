//! Building the process's one wasmtime `Engine`.

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Knobs for the engine, set by `lodge serve`.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Try the pooling allocator (fast instantiation); falls back to
    /// on-demand allocation when the address space can't be reserved.
    pub pooling: bool,
    /// How many instances the pool holds at once; `None` leaves it to the
    /// server, which sizes it for its room and http budgets.
    pub pool_instances: Option<u32>,
    /// The largest linear memory any instance may grow to, in bytes.
    pub max_memory_bytes: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pooling: true,
            pool_instances: None,
            max_memory_bytes: 256 << 20,
        }
    }
}

fn base_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    config
}

/// Builds the engine: pooling allocator where the address space allows it,
/// on-demand otherwise. Returns the engine and whether pooling is on.
pub fn new_engine(options: &EngineOptions) -> anyhow::Result<(Engine, bool)> {
    if options.pooling {
        let instances = options.pool_instances.unwrap_or(1000);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(instances)
            .total_core_instances(instances * 4)
            .total_memories(instances * 2)
            .total_tables(instances * 4)
            .max_memory_size(options.max_memory_bytes as usize)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(32);
        let mut config = base_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        match Engine::new(&config) {
            Ok(engine) => return Ok((engine, true)),
            Err(e) => {
                tracing::warn!(error = %e, "pooling allocator unavailable; using on-demand allocation")
            }
        }
    }
    Ok((Engine::new(&base_config())?, false))
}
