## The layout every page inherits: the page fills in title() and its body.
<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>${self.title()} - Analysis Demo</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<div id="content">
${next.body()}
</div>
<p class="footer">${h.link_to('Home', url('home'))}</p>
</body>
</html>
<%def name="title()">Analysis Demo</%def>
