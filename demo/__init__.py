"""Gradio tab handlers: plain functions taking and returning plain values (the app in app.py only wires
components). The tabs arrive with the app issue; model code in `diffusion/` never imports gradio."""
