"""Exports of a netdraw graph to other tools' formats (ONNX for Netron)."""
