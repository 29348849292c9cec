using System.Text.RegularExpressions;
using Bowline.Api.Xds;

namespace Bowline.Routing;
