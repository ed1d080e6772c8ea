"""The gateway's route modules declare what they use (docs/extending.md "Gateway routes"): the repo
target, the gRPC stubs, the principal and the settings come in as the Annotated dependencies of
services/gateway/deps.py (ApiTarget/ResolveTarget, Services, CurrentPrincipal/CurrentUser,
AppSettings). A route module, handler or helper, never looks them up on the request by hand. The
request itself stays for what only it holds: the body, query parameters, headers, cookies, URLs."""
from __future__ import annotations

import ast
from pathlib import Path

ROUTES = Path(__file__).resolve().parents[2] / "services" / "gateway" / "routes"

# The lookups the aliases replace: deps.clients / deps.settings / deps.current_principal and
# paths.api_target / paths.resolve_target called on the request, and the app state read directly.
LOOKUPS = {"clients", "settings", "current_principal", "api_target", "resolve_target"}

# Where the raw lookup is the behaviour: logout ends a session whose cookie may be expired or
# revoked, so it catches the authentication error instead of failing on it as a dependency would;
# resolve_file is also answered by the app's shortcut (hangar_common.http.Shortcuts: the hottest
# route skips the dependency layer), which calls it with the request alone, so it looks the target
# and the stubs up once itself and hands them on.
ALLOWED = {("auth.py", "logout", "current_principal"),
           ("resolve.py", "resolve_file", "resolve_target"), ("resolve.py", "resolve_file", "clients")}


def _violations(source: str, module: str) -> list[str]:
    found = []
    tree = ast.parse(source)
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                on_request = any(isinstance(arg, ast.Name) and arg.id == "request" for arg in node.args)
                if name in LOOKUPS and on_request and (module, function.name, name) not in ALLOWED:
                    found.append(f"{module}:{node.lineno} {function.name}() calls {name}(request)")
            elif isinstance(node, ast.Attribute) and node.attr == "state" and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "app":
                found.append(f"{module}:{node.lineno} {function.name}() reads request.app.state")
    return sorted(set(found))


def test_route_modules_declare_their_dependencies():
    modules = sorted(p for p in ROUTES.glob("*.py") if p.stem != "__init__")
    assert len(modules) > 10
    problems = [v for path in modules for v in _violations(path.read_text(), path.name)]
    assert not problems, "look these up with deps.py's Annotated aliases instead:\n" + "\n".join(problems)


def test_the_check_sees_the_lookups_it_forbids():
    """The check itself: each kind of lookup by hand is reported, the declared forms are not."""
    by_hand = '''
async def handler(request: Request):
    target = paths.api_target(request)
    c = deps.clients(request)
    principal = await deps.current_principal(request)
    limit = deps.settings(request).max_commit_body_bytes
    origin = request.app.state.resources.settings.public_url
'''
    assert len(_violations(by_hand, "x.py")) == 5
    declared = '''
async def handler(request: Request, target: deps.ApiTarget, services: deps.Services,
                  principal: deps.CurrentPrincipal, settings: deps.AppSettings):
    body = await json_object(request)
    info = await open_repo(request, target, "read")
    return services.metadata, settings.public_url, request.query_params.get("p")
'''
    assert _violations(declared, "x.py") == []
    assert _violations("async def logout(request):\n    await current_principal(request)\n", "auth.py") == []


def test_route_modules_hold_no_json_shapes():
    """The JSON shapes of the answers live beside the routes (shapes.py, identity_shapes.py,
    community_shapes.py), not in them: `routes/` holds routes only."""
    shapes = [f"{path.name}: {node.name}" for path in sorted(ROUTES.glob("*.py"))
              for node in ast.parse(path.read_text()).body
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.endswith("_json")]
    assert not shapes, shapes


def test_only_the_app_imports_route_modules():
    """What a route shares with the rest of the gateway lives beside routes/ (downloads.py for
    resolve's answers), so only app.py, which mounts the routers, imports from routes/."""
    importers = []
    for path in sorted(ROUTES.parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and (node.module or "").split(".")[0] == "routes":
                importers.append(path.name)
    assert set(importers) <= {"app.py"}, importers
