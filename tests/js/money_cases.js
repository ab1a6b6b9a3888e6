// Dashboard.money on decimal text: rounded to cents half away from zero, never through floats.
// Run by tests/test_dashboard_js.py with node; prints one line per case.
global.window = { location: { search: "" } }; global.document = { addEventListener: function(){} };
require(require("path").join(__dirname, "..", "..", "dashboard", "static", "dashboard.js"));
var m = window.Dashboard.money;
var cases = [["66.24679125","66.25"],["-30.075","-30.08"],["-126.6788694","-126.68"],["0.004","0.00"],["-0.004","0.00"],["99.995","100.00"],["10066.24679125","10066.25"],["5","5.00"],["0","0.00"],["-0.005","-0.01"],["999.999","1000.00"],["0.5","0.50"]];
cases.forEach(function(c){ var got=m(c[0]); console.log((got===c[1]?"ok  ":"BAD ")+c[0]+" -> "+got+" (want "+c[1]+")"); });
