"""The start page and the legal pages every public-sector site needs."""
from flask import render_template

from ..access import allow
from ..roles import EVERYONE
from . import bp


@bp.route("/")
@allow(EVERYONE)
def index():
    from ..ideas.services import participation_figures

    return render_template("main/index.html", figures=participation_figures())


@bp.route("/datenschutz")
@allow(EVERYONE)
def privacy():
    return render_template("main/privacy.html")


@bp.route("/impressum")
@allow(EVERYONE)
def imprint():
    return render_template("main/imprint.html")


@bp.route("/barrierefreiheit")
@allow(EVERYONE)
def accessibility():
    return render_template("main/accessibility.html")
