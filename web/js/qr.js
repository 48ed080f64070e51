// The QR code of a text as an SVG element (id "qr"), drawn with the vendored npm package
// qrcode-generator (web/vendor/, copied by make): for the printed certificates of the edu and
// evidence modules. Null when the library is not there, so a page can say so instead.
const SVG = 'http://www.w3.org/2000/svg';

export async function qrSvg(text) {
  let qrcode;
  try {
    qrcode = (await import('/vendor/qrcode.mjs')).default;
  } catch {
    return null;
  }
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n + 8} ${n + 8}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('id', 'qr');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const bg = document.createElementNS(SVG, 'rect');
  bg.setAttribute('width', String(n + 8));
  bg.setAttribute('height', String(n + 8));
  bg.setAttribute('fill', '#fff');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}
