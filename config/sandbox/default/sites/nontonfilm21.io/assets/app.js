/* nf21 app */
(function(){var cfg=JSON.parse('{"rekomendasi": [{"u": "/film/malam-jakarta-2026.html", "j": "Malam Jakarta (2026)"}], "iklan": [{"u": "https://iptvbrasuca.tv/", "j": "IPTV Premium"}]}');var box=document.createElement("div");box.id="rekomendasi";
cfg.rekomendasi.concat(cfg.iklan).forEach(function(x){var a=document.createElement("a");a.setAttribute("href",x.u);a.innerText=x.j;box.appendChild(a);box.appendChild(document.createElement("br"));});
document.body.appendChild(box);})();
