using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>The few Kubernetes API-server checks that matter to a mesh (ports, replicas, containers).</summary>
internal static class KubernetesRules
{
    public static void Check(KubeServiceSpec spec, Reporter r)
    {
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            var port = spec.Ports[i];
            if (port.Port == 0)
            {
                r.Report($"spec.ports[{i}].port", "required field is missing");
            }
            Checks.Port(r, $"spec.ports[{i}].port", port.Port == 0 ? null : port.Port);
            Checks.Port(r, $"spec.ports[{i}].targetPort", port.TargetPort?.Int);
        }
        // Kubernetes wants every port named when there are several, so that endpoints can refer to them.
        if (spec.Ports.Count > 1)
        {
            for (var i = 0; i < spec.Ports.Count; i++)
            {
                Checks.Required(r, $"spec.ports[{i}].name", spec.Ports[i].Name);
            }
        }
    }

    public static void Check(DeploymentSpec spec, Reporter r)
    {
        Checks.NonNegative(r, "spec.replicas", spec.Replicas);
        var containers = spec.Template.Spec.Containers;
        Checks.NonEmpty(r, "spec.template.spec.containers", containers, "container");
        for (var i = 0; i < containers.Count; i++)
        {
            var path = $"spec.template.spec.containers[{i}]";
            Checks.Required(r, $"{path}.name", containers[i].Name);
            for (var p = 0; p < containers[i].Ports.Count; p++)
            {
                var port = containers[i].Ports[p].ContainerPort;
                if (port == 0)
                {
                    r.Report($"{path}.ports[{p}].containerPort", "required field is missing");
                }
                Checks.Port(r, $"{path}.ports[{p}].containerPort", port == 0 ? null : port);
            }
        }
    }
}
