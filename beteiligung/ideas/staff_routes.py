"""The staff side of ideas: triage, answers, analog input, moderation, phases."""
from flask import Blueprint

bp = Blueprint("idea_staff", __name__, url_prefix="/verwaltung")
