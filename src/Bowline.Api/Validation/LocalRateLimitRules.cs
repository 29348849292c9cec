using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>LocalRateLimit checks: Envoy's token_bucket constraints (max_tokens ≥ 1, tokens_per_fill ≥ 1, fill_interval ≥ 50ms).</summary>
internal static class LocalRateLimitRules
{
    public static void Check(LocalRateLimitSpec spec, Reporter r)
    {
        if (spec.TokenBucket is not { } bucket)
        {
            r.Report("spec.tokenBucket", "required");
            return;
        }

        if (bucket.MaxTokens is null)
        {
            r.Report("spec.tokenBucket.maxTokens", "required");
        }
        else if (bucket.MaxTokens is < 1 or > uint.MaxValue)
        {
            r.Report("spec.tokenBucket.maxTokens", $"must be between 1 and {uint.MaxValue}, got {bucket.MaxTokens}");
        }

        if (bucket.TokensPerFill is < 1 or > uint.MaxValue)
        {
            r.Report("spec.tokenBucket.tokensPerFill", $"must be between 1 and {uint.MaxValue}, got {bucket.TokensPerFill}");
        }

        if (bucket.FillInterval is null)
        {
            r.Report("spec.tokenBucket.fillInterval", "required");
        }
        else if (bucket.FillInterval < TimeSpan.FromMilliseconds(50))
        {
            r.Report("spec.tokenBucket.fillInterval", "must be at least 50ms");
        }

        for (var i = 0; i < spec.Routes.Count; i++)
        {
            Checks.Required(r, $"spec.routes[{i}]", spec.Routes[i]);
        }
    }
}
