#!/usr/bin/env python3
"""A small MCP server over stdio (standard library only) for Tollgate's agent examples and tests.

Newline-delimited JSON-RPC 2.0 on stdin/stdout; logs go to stderr.
Tools: lookup_order(order_id) and add(a, b).
"""
import json
import sys

SUPPORTED = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

ORDERS = {
    "A-1001": {"order_id": "A-1001", "status": "shipped", "total_cents": 4599},
    "A-1002": {"order_id": "A-1002", "status": "processing", "total_cents": 1250},
}

TOOLS = [
    {
        "name": "lookup_order",
        "description": "Look up an order by its id (for example A-1001).",
        "inputSchema": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
    {
        "name": "add",
        "description": "Add two numbers.",
        "inputSchema": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
    },
]


def send(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def text(content, is_error=False):
    return {"content": [{"type": "text", "text": content}], "isError": is_error}


def call_tool(name, arguments):
    if name == "lookup_order":
        order = ORDERS.get(str(arguments.get("order_id")))
        if order is None:
            return text(f"order {arguments.get('order_id')!r} not found", is_error=True)
        return text(json.dumps(order))
    if name == "add":
        a, b = arguments.get("a"), arguments.get("b")
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return text("a and b must be numbers", is_error=True)
        return text(str(a + b))
    raise KeyError(name)


def handle(message):
    method, request_id = message.get("method"), message.get("id")
    if method is None or "id" not in message:
        return  # notifications and stray responses get no answer
    params = message.get("params") or {}
    if method == "initialize":
        requested = params.get("protocolVersion")
        result = {
            "protocolVersion": requested if requested in SUPPORTED else SUPPORTED[0],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "tollgate-orders", "version": "1.0.0"},
        }
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        try:
            result = call_tool(params.get("name"), params.get("arguments") or {})
        except KeyError:
            send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": f"Unknown tool: {params.get('name')}"}})
            return
    else:
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": f"Method not found: {method}"}})
        return
    send({"jsonrpc": "2.0", "id": request_id, "result": result})


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError as error:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": str(error)}})
            continue
        for item in message if isinstance(message, list) else [message]:
            handle(item)


if __name__ == "__main__":
    main()
