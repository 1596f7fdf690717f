// Draws the grid map: the server's GeoJSON of the grids in scope, coloured by the chosen measure,
// each grid a link to its page. The table under the map carries the same values.
(function () {
  'use strict';
  var element = document.getElementById('og-map');
  var source = document.getElementById('og-map-data');
  if (!window.echarts || !element || !source) { return; }
  var data = JSON.parse(source.textContent);
  window.echarts.registerMap('og-grids', data.geojson);
  var labels = {};
  var max = 0;
  data.series.forEach(function (s) { labels[s.name] = s.label; max = Math.max(max, s.value); });
  var narrow = element.clientWidth < 600;
  var chart = window.echarts.init(element, null, { renderer: 'svg' });
  chart.setOption({
    tooltip: { trigger: 'item', formatter: function (p) {
      var escape = window.echarts.format.encodeHTML;  // names are typed in by staff: never markup
      return escape(labels[p.name] || p.name) + '<br>' + escape(data.measure) + ': ' + (isNaN(p.value) ? 0 : p.value);
    } },
    // the colour legend: beside the map on a wide screen, under it on a phone
    visualMap: { type: 'continuous', min: 0, max: Math.max(max, 1), calculable: false,
                 orient: narrow ? 'horizontal' : 'vertical', left: narrow ? 'center' : 8, bottom: 8,
                 text: [String(Math.max(max, 1)), '0'], itemHeight: 100,
                 inRange: { color: ['#e8f4ea', '#f6c35b', '#d9534f'] } },
    series: [{ type: 'map', map: 'og-grids', roam: true, data: data.series, selectedMode: false,
               top: 16, bottom: narrow ? 56 : 16, left: 'center',  // the height only: the width keeps the aspect
               // names on the map while they fit (a few grids on a wide screen), else the values only;
               // a whole district shows only the colours
               label: { show: data.series.length <= 60, fontSize: 11, color: '#222', formatter: function (p) {
                 var value = isNaN(p.value) ? 0 : p.value;
                 return element.clientWidth >= 600 && data.series.length <= 20 ? (labels[p.name] || '') + '\n' + value
                   : String(value); } },
               emphasis: { label: { show: true } } }]
  });
  chart.on('click', function (p) {
    if (data.links[p.name]) { window.location.href = data.links[p.name]; }
  });
  window.addEventListener('resize', function () { chart.resize(); });
})();
