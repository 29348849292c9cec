// Each test class runs a whole mesh of processes; two at once on a 2-core machine would only make timings noisy.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
